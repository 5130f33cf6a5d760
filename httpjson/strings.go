package httpjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DecodeOption changes how [Decode] reads a request body.
type DecodeOption func(*decodeOptions)

type decodeOptions struct {
	allowNUL bool
}

// AllowNUL lets JSON strings of the body hold the NUL character U+0000
// (written \u0000 in JSON), which [Decode] rejects by default.
//
// Use it only for a handler that stores such strings where NUL is allowed,
// or never stores them: PostgreSQL refuses NUL in text and jsonb values
// ("invalid byte sequence for encoding UTF8: 0x00"), while SQLite and
// MySQL/MariaDB accept it, so a plugin that stores a client's strings gets
// a 500 on one engine only.
func AllowNUL() DecodeOption { return func(o *decodeOptions) { o.allowNUL = true } }

// maxStringErrors caps the field errors reported for bad strings, so that a
// body of many bad strings does not produce an equally large error.
const maxStringErrors = 10

const (
	msgNUL     = `must not contain the NUL character (\u0000)`
	msgKeyNUL  = `has a key that contains the NUL character (\u0000)`
	msgUTF8    = "is not valid UTF-8 text"
	msgKeyUTF8 = "has a key that is not valid UTF-8 text"
	// An unpaired UTF-16 surrogate escape such as \ud83d is valid JSON
	// syntax but no character: encoding/json replaces it with U+FFFD.
	msgSurrogate    = `has an unpaired surrogate escape (\uD800-\uDFFF), which is not a character; send the pair, or the character as UTF-8`
	msgKeySurrogate = `has a key with an unpaired surrogate escape (\uD800-\uDFFF), which is not a character`
	bodyField       = "(body)"
	nulEscape       = `\u0000`
)

// checkStrings returns a field error for each JSON string of raw (object
// keys included) that holds NUL (unless allowNUL), that is not valid
// UTF-8, or that has an unpaired surrogate escape. raw has already been
// decoded by encoding/json, so it is one valid JSON value (possibly
// followed by white space).
//
// encoding/json itself accepts both: it decodes \u0000 to NUL and replaces
// invalid UTF-8 with U+FFFD, silently changing what the client sent. A raw
// NUL byte cannot appear in valid JSON (control characters must be
// escaped), and invalid UTF-8 outside a string is a syntax error, so two
// cheap scans of raw decide whether any string needs a closer look; only
// then is raw walked token by token to name the fields.
func checkStrings(raw []byte, allowNUL bool) []FieldError {
	checkNUL := !allowNUL && bytes.Contains(raw, []byte(nulEscape))
	checkUTF8 := !utf8.Valid(raw)
	checkSurrogates := hasSurrogateEscape(raw)
	if !checkNUL && !checkUTF8 && !checkSurrogates {
		return nil
	}
	type frame struct {
		object    bool
		key       string // the current key, in an object
		index     int    // the current index, in an array
		wantKey   bool   // the next string of an object is a key
		hasMember bool   // the array holds a current element
	}
	var (
		stack  []frame
		fields []FieldError
	)
	path := func() string {
		var b strings.Builder
		for i, f := range stack {
			if i > 0 {
				b.WriteByte('.')
			}
			if f.object {
				b.WriteString(f.key)
			} else {
				b.WriteString(strconv.Itoa(f.index))
			}
		}
		if b.Len() == 0 {
			return bodyField
		}
		return b.String()
	}
	// parentPath is the path of the object whose key is being read.
	parentPath := func() string {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p := path()
		stack = append(stack, top)
		return p
	}
	// value is called before each value: it moves an array to its next
	// element.
	value := func() {
		if n := len(stack); n > 0 && !stack[n-1].object {
			if stack[n-1].hasMember {
				stack[n-1].index++
			}
			stack[n-1].hasMember = true
		}
	}
	// done is called after each complete value: an object wants a key.
	done := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var start int64
	for len(fields) < maxStringErrors {
		tok, err := dec.Token()
		if err != nil {
			break // io.EOF: raw was decoded before, so nothing else
		}
		end := dec.InputOffset()
		seg := raw[start:end]
		start = end
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				value()
				stack = append(stack, frame{object: tok == '{', wantKey: tok == '{'})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			isKey := len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].wantKey
			var msg string
			switch {
			case checkNUL && strings.IndexByte(tok, 0) >= 0:
				msg = msgNUL
				if isKey {
					msg = msgKeyNUL
				}
			case checkUTF8 && !utf8.Valid(seg):
				// seg is the string's JSON text with, at most, the ASCII
				// ':' or ',' and white space before it.
				msg = msgUTF8
				if isKey {
					msg = msgKeyUTF8
				}
			case checkSurrogates && hasLoneSurrogate(seg):
				msg = msgSurrogate
				if isKey {
					msg = msgKeySurrogate
				}
			}
			if isKey {
				if msg != "" {
					fields = append(fields, FieldError{Field: parentPath(), Message: msg})
				}
				// A field path must not carry the NUL it reports.
				stack[len(stack)-1].key = strings.ReplaceAll(tok, "\x00", nulEscape)
				stack[len(stack)-1].wantKey = false
				continue
			}
			value()
			if msg != "" {
				fields = append(fields, FieldError{Field: path(), Message: msg})
			}
			done()
		default:
			value()
			done()
		}
	}
	return fields
}

// hasSurrogateEscape reports whether raw may hold a \u escape of a UTF-16
// surrogate (\uD800-\uDFFF), a cheap test before hasLoneSurrogate.
func hasSurrogateEscape(raw []byte) bool {
	for {
		i := bytes.Index(raw, []byte(`\u`))
		if i < 0 || i+3 >= len(raw) {
			return false
		}
		if c := raw[i+2] | 0x20; c == 'd' {
			if h := raw[i+3] | 0x20; h == '8' || h == '9' || ('a' <= h && h <= 'f') {
				return true
			}
		}
		raw = raw[i+2:]
	}
}

// hasLoneSurrogate reports whether seg, the JSON text of one string
// (after, at most, ':' or ',' and white space), has a surrogate escape
// that is not part of a high-low pair. seg is valid JSON, so every \u has
// four hex digits.
func hasLoneSurrogate(seg []byte) bool {
	i := bytes.IndexByte(seg, '"')
	if i < 0 {
		return false
	}
	for i++; i < len(seg); i++ {
		if seg[i] != '\\' {
			continue
		}
		i++ // the escaped character; the loop steps past it
		if i+4 >= len(seg) || seg[i] != 'u' {
			continue
		}
		r := hex4(seg[i+1 : i+5])
		i += 4
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return true
		case 0xD800 <= r && r <= 0xDBFF:
			if i+6 < len(seg) && seg[i+1] == '\\' && seg[i+2] == 'u' {
				if r2 := hex4(seg[i+3 : i+7]); 0xDC00 <= r2 && r2 <= 0xDFFF {
					i += 6
					continue
				}
			}
			return true
		}
	}
	return false
}

// hex4 returns the value of four hex digits.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
