// Package httpjson is the JSON side of a Greenroom plugin's HTTP handlers:
// strict decoding with field validation ([Decode]), writing ([Write]), and
// an adapter for handlers that return their errors ([Handler]).
//
//	type createTodo struct {
//		Title string `json:"title" validate:"required,max=200"`
//	}
//
//	router.Handle("POST /todos", httpjson.Handler(func(w http.ResponseWriter, r *http.Request) error {
//		var req createTodo
//		if err := httpjson.Decode(r, &req); err != nil {
//			return err // 400 InputError listing the field errors, or 413
//		}
//		todo, err := store.Create(r.Context(), req.Title)
//		if err != nil {
//			return err // 500, logged; the caller sees no internals
//		}
//		return httpjson.Write(w, http.StatusCreated, todo)
//	}))
//
// Every error response has the one JSON shape of package errs. Validation
// uses the `validate` struct tags of github.com/go-playground/validator/v10
// and reports fields by their JSON names.
//
// Decode also refuses what some database engines cannot store, so that no
// engine answers 500 for input another one takes: a NUL character (\u0000)
// in any JSON string, which PostgreSQL refuses ([AllowNUL] lets a handler
// take it), and strings that are not valid UTF-8 or hold an unpaired
// surrogate escape such as \ud83d (encoding/json would silently turn
// either into U+FFFD). Match `max` tags to the columns: max counts
// characters, as VARCHAR(n) does on PostgreSQL and on MySQL/MariaDB with
// utf8mb4.
package httpjson
