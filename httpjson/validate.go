package httpjson

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/go-playground/validator/v10"
)

// validate checks `validate` struct tags. It is configured here, while the
// package initializes, and never changed afterwards: its only state is the
// cache of parsed struct tags that validator keeps for itself and guards for
// concurrent use. One instance is shared because building that cache for
// every request would be wasteful.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by the names clients send: their JSON names.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			return ""
		case "":
			return f.Name
		}
		return name
	})
	return v
}

// validateValue validates v (a pointer) when it points to a struct.
func validateValue(v any) error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	err := validate.Struct(rv.Interface())
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		if err != nil {
			return fmt.Errorf("httpjson: validate %s: %w", rv.Type(), err)
		}
		return nil
	}
	fields := make([]FieldError, len(verrs))
	for i, fe := range verrs {
		fields[i] = FieldError{Field: fieldPath(fe.Namespace()), Message: message(fe)}
	}
	return invalid(fields)
}

var indexPattern = regexp.MustCompile(`\[([^\]]*)\]`)

// fieldPath turns validator's namespace, such as "createTodo.items[0].title",
// into the JSON path encoding/json uses in its errors: "items.0.title".
func fieldPath(ns string) string {
	_, path, ok := strings.Cut(ns, ".")
	if !ok {
		path = ns
	}
	return indexPattern.ReplaceAllString(path, ".$1")
}

// message says what a failed validation tag requires, in words a client
// understands. Tags without a phrase here are named as they are.
func message(fe validator.FieldError) string {
	p := fe.Param()
	var unit string
	switch fe.Kind() { // validator reports the kind behind pointers
	case reflect.String:
		unit = " characters"
	case reflect.Slice, reflect.Array, reflect.Map:
		unit = " items"
	}
	switch fe.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_with_all",
		"required_without", "required_without_all":
		return "is required"
	case "len":
		if unit != "" {
			return "must have exactly " + p + unit
		}
		return "must be " + p
	case "min":
		if unit != "" {
			return "must have at least " + p + unit
		}
		return "must be at least " + p
	case "max":
		if unit != "" {
			return "must have at most " + p + unit
		}
		return "must be at most " + p
	case "gte":
		return "must be greater than or equal to " + p
	case "gt":
		return "must be greater than " + p
	case "lte":
		return "must be less than or equal to " + p
	case "lt":
		return "must be less than " + p
	case "eq":
		return "must be " + p
	case "ne":
		return "must not be " + p
	case "oneof":
		return "must be one of: " + strings.Join(strings.Fields(p), ", ")
	case "email":
		return "must be an email address"
	case "url", "http_url", "uri":
		return "must be a URL"
	case "uuid", "uuid4", "uuid5", "uuid3", "uuid_rfc4122", "uuid4_rfc4122":
		return "must be a UUID"
	case "alphanum":
		return "must contain only letters and digits"
	case "datetime":
		return "must be a date and time in the layout " + p
	}
	if p != "" {
		return fmt.Sprintf("must satisfy %s=%s", fe.Tag(), p)
	}
	return "must satisfy " + fe.Tag()
}
