package errs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Name is the name of an error kind, as it appears in the JSON body.
type Name string

// The error kinds and their HTTP status codes.
const (
	NotModified        Name = "NotModifiedError"        // 304
	Input              Name = "InputError"              // 400
	Authentication     Name = "AuthenticationError"     // 401
	NotAllowed         Name = "NotAllowedError"         // 403
	NotFound           Name = "NotFoundError"           // 404
	MethodNotAllowed   Name = "MethodNotAllowedError"   // 405
	Conflict           Name = "ConflictError"           // 409
	PayloadTooLarge    Name = "PayloadTooLargeError"    // 413
	NotImplemented     Name = "NotImplementedError"     // 501
	ServiceUnavailable Name = "ServiceUnavailableError" // 503
	Internal           Name = "InternalError"           // 500
)

var statusByName = map[Name]int{
	NotModified:        http.StatusNotModified,
	Input:              http.StatusBadRequest,
	Authentication:     http.StatusUnauthorized,
	NotAllowed:         http.StatusForbidden,
	NotFound:           http.StatusNotFound,
	MethodNotAllowed:   http.StatusMethodNotAllowed,
	Conflict:           http.StatusConflict,
	PayloadTooLarge:    http.StatusRequestEntityTooLarge,
	NotImplemented:     http.StatusNotImplemented,
	ServiceUnavailable: http.StatusServiceUnavailable,
	Internal:           http.StatusInternalServerError,
}

// Error is a typed error with a name, a message safe to show to callers,
// and an optional cause that is never shown.
type Error struct {
	Name    Name
	Message string
	// Details, if not nil, is included in the JSON body as error.details,
	// for example the field errors of invalid input.
	Details any
	// Cause is the underlying error, logged but never sent to callers.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Name, e.Message, e.Cause)
	}
	return string(e.Name) + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// StatusCode is the HTTP status of the error's kind.
func (e *Error) StatusCode() int {
	if s, ok := statusByName[e.Name]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Is reports whether target is an *Error of the same name, so that
// errors.Is(err, errs.New(errs.NotFound, "")) matches any NotFoundError.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Name == e.Name && (t.Message == "" || t.Message == e.Message)
}

// New returns an error of the given kind.
func New(name Name, format string, args ...any) *Error {
	return &Error{Name: name, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the given kind with a cause that is logged but
// not shown to callers.
func Wrap(name Name, cause error, format string, args ...any) *Error {
	return &Error{Name: name, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// NewInput returns an InputError (400).
func NewInput(format string, args ...any) *Error { return New(Input, format, args...) }

// NewAuthentication returns an AuthenticationError (401).
func NewAuthentication(format string, args ...any) *Error {
	return New(Authentication, format, args...)
}

// NewNotAllowed returns a NotAllowedError (403).
func NewNotAllowed(format string, args ...any) *Error { return New(NotAllowed, format, args...) }

// NewNotFound returns a NotFoundError (404).
func NewNotFound(format string, args ...any) *Error { return New(NotFound, format, args...) }

// NewConflict returns a ConflictError (409).
func NewConflict(format string, args ...any) *Error { return New(Conflict, format, args...) }

// NewServiceUnavailable returns a ServiceUnavailableError (503).
func NewServiceUnavailable(format string, args ...any) *Error {
	return New(ServiceUnavailable, format, args...)
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err's chain holds an *Error of the given kind.
func Is(err error, name Name) bool {
	e, ok := As(err)
	return ok && e.Name == name
}

// StatusCode returns the HTTP status for err: that of the *Error in its
// chain, or 500.
func StatusCode(err error) int {
	if e, ok := As(err); ok {
		return e.StatusCode()
	}
	return http.StatusInternalServerError
}

// Body is the JSON error body.
type Body struct {
	Error    BodyError    `json:"error"`
	Request  BodyRequest  `json:"request"`
	Response BodyResponse `json:"response"`
}

// BodyError is the error part of [Body].
type BodyError struct {
	Name    Name   `json:"name"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

// BodyRequest is the request part of [Body].
type BodyRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

// BodyResponse is the response part of [Body].
type BodyResponse struct {
	StatusCode int `json:"statusCode"`
}

// ToBody builds the JSON body for err answering r. Errors that are not
// *Error become an InternalError with a generic message.
//
// The request URL is r.RequestURI, the target the client sent, when it is
// set: a plugin handler sees r.URL relative to its /api/<pluginId> mount (as
// with http.StripPrefix), but the body names the URL the caller used.
func ToBody(r *http.Request, err error) Body {
	url := r.RequestURI
	if url == "" {
		url = r.URL.RequestURI()
	}
	b := Body{Request: BodyRequest{Method: r.Method, URL: url}}
	if e, ok := As(err); ok {
		b.Error = BodyError{Name: e.Name, Message: e.Message, Details: e.Details}
		b.Response.StatusCode = e.StatusCode()
		return b
	}
	b.Error = BodyError{Name: Internal, Message: "Internal server error"}
	b.Response.StatusCode = http.StatusInternalServerError
	return b
}

// WriteJSON writes err as the JSON error body with its status code. A
// NotModifiedError writes only the 304 status, since a 304 has no body.
func WriteJSON(w http.ResponseWriter, r *http.Request, err error) {
	b := ToBody(r, err)
	if b.Response.StatusCode == http.StatusNotModified {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(b.Response.StatusCode)
	_ = json.NewEncoder(w).Encode(b)
}
