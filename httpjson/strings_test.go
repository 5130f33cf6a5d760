package httpjson

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/greenroom-dev/greenroom/errs"
)

// document holds every place a JSON string can go.
type document struct {
	Title string          `json:"title" validate:"max=10"`
	Tags  []string        `json:"tags"`
	Items []item          `json:"items" validate:"dive"`
	Meta  map[string]any  `json:"meta"`
	Any   any             `json:"any"`
	Raw   json.RawMessage `json:"raw"`
}

func TestDecodeStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		body        string
		opts        []DecodeOption
		want        document
		wantDetails []FieldError // nil for success
	}{
		{name: "NUL in a field", body: `{"title":"a\u0000b"}`, wantDetails: []FieldError{{"title", msgNUL}}},
		{name: "only NUL", body: `{"title":"\u0000"}`, wantDetails: []FieldError{{"title", msgNUL}}},
		{name: "NUL in an array", body: `{"tags":["a","b\u0000"]}`, wantDetails: []FieldError{{"tags.1", msgNUL}}},
		{name: "NUL in a nested struct", body: `{"items":[{"name":"x"},{"name":"\u0000"}]}`, wantDetails: []FieldError{{"items.1.name", msgNUL}}},
		{name: "NUL in a map value", body: `{"meta":{"a":{"b":[1,"\u0000x"]}}}`, wantDetails: []FieldError{{"meta.a.b.1", msgNUL}}},
		{name: "NUL in a map key", body: `{"meta":{"k\u0000":1}}`, wantDetails: []FieldError{{"meta", msgKeyNUL}}},
		{name: "NUL in a key and its value", body: `{"meta":{"k\u0000":"\u0000"}}`, wantDetails: []FieldError{{"meta", msgKeyNUL}, {`meta.k\u0000`, msgNUL}}},
		{name: "NUL in any", body: `{"any":["x",{"y":"\u0000"}]}`, wantDetails: []FieldError{{"any.1.y", msgNUL}}},
		{name: "NUL in raw JSON", body: `{"raw":{"y":"\u0000"}}`, wantDetails: []FieldError{{"raw.y", msgNUL}}},
		{name: "several", body: `{"title":"\u0000","tags":["\u0000"],"any":"\u0000"}`, wantDetails: []FieldError{{"title", msgNUL}, {"tags.0", msgNUL}, {"any", msgNUL}}},
		{
			name: "at most ten", body: `{"tags":[` + strings.Repeat(`"\u0000",`, 20) + `"x"]}`,
			wantDetails: func() []FieldError {
				var f []FieldError
				for i := range 10 {
					f = append(f, FieldError{fmt.Sprintf("tags.%d", i), msgNUL})
				}
				return f
			}(),
		},
		{name: "an escaped backslash is not NUL", body: `{"title":"\\u0000"}`, want: document{Title: `\u0000`}},
		{name: "other escapes", body: `{"title":"\u0001\t\"é"}`, want: document{Title: "\x01\t\"é"}},
		{name: "NUL allowed", body: `{"title":"a\u0000b","meta":{"k\u0000":"\u0000"}}`, opts: []DecodeOption{AllowNUL()},
			want: document{Title: "a\x00b", Meta: map[string]any{"k\x00": "\x00"}}},
		{name: "invalid UTF-8", body: "{\"title\":\"a\xffb\"}", wantDetails: []FieldError{{"title", msgUTF8}}},
		{name: "invalid UTF-8 deep", body: "{\"items\":[{\"name\":\"\xc3\"}]}", wantDetails: []FieldError{{"items.0.name", msgUTF8}}},
		{name: "invalid UTF-8 in a key", body: "{\"meta\":{\"\xff\":1}}", wantDetails: []FieldError{{"meta", msgKeyUTF8}}},
		// encoding/json decodes an unpaired surrogate escape to U+FFFD,
		// silently changing the text, as it does with invalid UTF-8.
		{name: "lone high surrogate", body: `{"title":"a\ud83d"}`, wantDetails: []FieldError{{"title", msgSurrogate}}},
		{name: "lone low surrogate", body: `{"tags":["\uDE00x"]}`, wantDetails: []FieldError{{"tags.0", msgSurrogate}}},
		{name: "reversed pair", body: `{"title":"\udfff\ud83d"}`, wantDetails: []FieldError{{"title", msgSurrogate}}},
		{name: "high surrogate then another escape", body: `{"title":"\uD83D\u0041"}`, wantDetails: []FieldError{{"title", msgSurrogate}}},
		{name: "lone surrogate in a key", body: `{"meta":{"\ud800":1}}`, wantDetails: []FieldError{{"meta", msgKeySurrogate}}},
		{name: "surrogate pair", body: `{"title":"\ud83d\ude00"}`, want: document{Title: "\U0001F600"}},
		{name: "escaped backslash before u", body: `{"title":"\\ud83d"}`, want: document{Title: `\ud83d`}},
		{name: "invalid UTF-8 with NUL allowed", body: "{\"title\":\"\xff\"}", opts: []DecodeOption{AllowNUL()}, wantDetails: []FieldError{{"title", msgUTF8}}},
		{name: "valid multibyte", body: `{"title":"日本語 ✓ 😀"}`, want: document{Title: "日本語 ✓ 😀"}},
		{name: "numbers and literals around", body: `{"any":[1,true,null,{"a":2.5e3},"ok"],"meta":{"x":"\u0000"}}`, wantDetails: []FieldError{{"meta.x", msgNUL}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got document
			err := Decode(request(tt.body, "application/json"), &got, tt.opts...)
			if tt.wantDetails == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("decoded (-want +got):\n%s", diff)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Name != errs.Input {
				t.Fatalf("Decode error = %v, want an InputError", err)
			}
			if diff := cmp.Diff(tt.wantDetails, e.Details); diff != "" {
				t.Errorf("Details (-want +got):\n%s", diff)
			}
			if strings.ContainsRune(e.Message, 0) {
				t.Errorf("message %q holds a NUL", e.Message)
			}
		})
	}
}

// A top-level string is named (body), as in encoding/json's type errors.
func TestDecodeStringsTopLevel(t *testing.T) {
	t.Parallel()
	var s string
	err := Decode(request(`"\u0000"`, "application/json"), &s)
	if e, ok := errs.As(err); !ok || cmp.Diff([]FieldError{{"(body)", msgNUL}}, e.Details) != "" {
		t.Fatalf("Decode = %#v, want an InputError for (body)", err)
	}
	if err.Error() != `InputError: Invalid request body: (body) must not contain the NUL character (\u0000)` {
		t.Errorf("message %q", err.Error())
	}
}
