package httpjson

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/greenroom-dev/greenroom/errs"
)

// fuzzTarget is a representative request body: validated fields, nesting,
// slices, maps, pointers and free-form values.
type fuzzTarget struct {
	Title    string            `json:"title" validate:"required,max=20"`
	Priority int               `json:"priority" validate:"gte=0,lte=5"`
	Ratio    float64           `json:"ratio"`
	Done     *bool             `json:"done"`
	Note     *string           `json:"note" validate:"omitnil,min=2"`
	Tags     []string          `json:"tags" validate:"max=3,dive,required"`
	Items    []item            `json:"items" validate:"dive"`
	Labels   map[string]string `json:"labels"`
	Extra    any               `json:"extra"`
}

// FuzzDecode checks that Decode never panics, that every error it returns
// for a client's body is a 4xx *errs.Error (an InputError, or a 413 past the
// limit), never a 500, and that no NUL character and no invalid UTF-8 ever
// reaches a decoded value. Seeds are in testdata/fuzz/FuzzDecode; run more
// with go test -fuzz FuzzDecode ./httpjson.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"title":"milk"}`,
		`{"title":"milk","priority":2,"ratio":0.5,"done":true,"note":"hi","tags":["a"],"items":[{"name":"x"}],"labels":{"k":"v"},"extra":[1,{"a":null}]}`,
		`{"title":"a\u0000"}`, `{"labels":{"\u0000":"x"}}`, `{"extra":{"a":["\u0000"]}}`, `{"title":"\\u0000"}`,
		"{\"title\":\"\xff\"}", `{"title":"\ud800"}`, `{}`, `[]`, `null`, `"x"`, `{"title":1}`, `{"nope":1}`,
		`{"title":"x"} {}`, `{"title":"x"`, `{"priority":1e400}`, `{"tags":["a","b","c","d"]}`, ``, ` `,
	} {
		f.Add(s)
	}
	const limit = 1 << 12
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
		var v fuzzTarget
		err := Decode(r, &v)
		if err != nil {
			e, ok := errs.As(err)
			if !ok || (e.Name != errs.Input && e.Name != errs.PayloadTooLarge) {
				t.Fatalf("Decode(%q) = %v (%T), want an InputError or a PayloadTooLargeError", body, err, err)
			}
			if s := errs.StatusCode(err); s < 400 || s >= 500 {
				t.Fatalf("Decode(%q) = %v with status %d, want a 4xx", body, err, s)
			}
			if e.Name == errs.PayloadTooLarge && len(body) <= limit {
				t.Fatalf("Decode(%q) = %v for a body within the limit", body, err)
			}
			return
		}
		if !utf8.ValidString(body) {
			t.Fatalf("Decode(%q) accepted a body that is not valid UTF-8", body)
		}
		if path, ok := findNUL(reflect.ValueOf(v), "(body)"); ok {
			t.Fatalf("Decode(%q) accepted a NUL at %s", body, path)
		}
	})
}

// findNUL returns the path of a string holding NUL in v, if any.
func findNUL(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return path, strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return findNUL(v.Elem(), path)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p, ok := findNUL(v.Index(i), path+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if p, ok := findNUL(it.Key(), path+" key"); ok {
				return p, true
			}
			if p, ok := findNUL(it.Value(), path+"."+it.Key().String()); ok {
				return p, true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if p, ok := findNUL(v.Field(i), path+"."+v.Type().Field(i).Name); ok {
				return p, true
			}
		}
	}
	return "", false
}
