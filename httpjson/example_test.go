package httpjson_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/httpjson"
)

type createTodo struct {
	Title    string `json:"title" validate:"required,max=200"`
	Priority int    `json:"priority" validate:"gte=0,lte=5"`
}

func ExampleDecode() {
	r := httptest.NewRequest("POST", "/api/todo/todos", strings.NewReader(`{"priority":9}`))
	r.Header.Set("Content-Type", "application/json")

	var req createTodo
	err := httpjson.Decode(r, &req)
	fmt.Println(err)

	// The error carries the field errors, which the JSON error body shows.
	e, _ := errs.As(err)
	for _, f := range e.Details.([]httpjson.FieldError) {
		fmt.Printf("%s: %s\n", f.Field, f.Message)
	}
	// Output:
	// InputError: Invalid request body: title is required; priority must be less than or equal to 5
	// title: is required
	// priority: must be less than or equal to 5
}

func ExampleDecode_response() {
	h := httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		var req createTodo
		if err := httpjson.Decode(r, &req); err != nil {
			return err
		}
		return httpjson.Write(w, http.StatusCreated, req)
	})

	r := httptest.NewRequest("POST", "/api/todo/todos", strings.NewReader(`{"title":"","colour":"red"}`))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Print(rec.Code, " ", rec.Body)
	// Output:
	// 400 {"error":{"name":"InputError","message":"Invalid request body: colour is not a known field","details":[{"field":"colour","message":"is not a known field"}]},"request":{"method":"POST","url":"/api/todo/todos"},"response":{"statusCode":400}}
}

// Decode refuses NUL in JSON strings, which PostgreSQL cannot store, and
// names the field. AllowNUL lets a handler take it.
func ExampleAllowNUL() {
	newRequest := func() *http.Request {
		r := httptest.NewRequest("POST", "/api/todo/todos", strings.NewReader(`{"title":"a\u0000b"}`))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	var req createTodo
	fmt.Println(httpjson.Decode(newRequest(), &req))
	err := httpjson.Decode(newRequest(), &req, httpjson.AllowNUL())
	fmt.Printf("%v %q\n", err, req.Title)
	// Output:
	// InputError: Invalid request body: title must not contain the NUL character (\u0000)
	// <nil> "a\x00b"
}

func ExampleWrite() {
	rec := httptest.NewRecorder()
	if err := httpjson.Write(rec, http.StatusOK, map[string]string{"status": "ok"}); err != nil {
		panic(err)
	}
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body)
	// Output:
	// 200 application/json; charset=utf-8
	// {"status":"ok"}
}

func ExampleHandler() {
	todos := map[string]string{"1": "buy milk"}
	h := httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
		title, ok := todos[r.PathValue("id")]
		if !ok {
			return errs.NewNotFound("todo %s not found", r.PathValue("id"))
		}
		if title == "" {
			return errors.New("corrupt todo") // a 500 that reveals nothing
		}
		return httpjson.Write(w, http.StatusOK, map[string]string{"title": title})
	})
	mux := http.NewServeMux()
	mux.Handle("GET /todos/{id}", h)

	for _, path := range []string{"/todos/1", "/todos/2"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Print(rec.Code, " ", rec.Body)
	}
	// Output:
	// 200 {"title":"buy milk"}
	// 404 {"error":{"name":"NotFoundError","message":"todo 2 not found"},"request":{"method":"GET","url":"/todos/2"},"response":{"statusCode":404}}
}
