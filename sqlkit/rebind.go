package sqlkit

import (
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/core"
)

// Rebind rewrites the ? placeholders of query for dialect: to $1, $2, ...
// in order for PostgreSQL, and not at all for SQLite and MySQL, which take
// ? as they are. Write each query once with ? and pass it through Rebind:
//
//	db.QueryContext(ctx, sqlkit.Rebind(dialect, "SELECT title FROM todos WHERE owner = ? AND id = ?"), owner, id)
//
// A ? inside a string literal ('...', E'...', $$...$$ or $tag$...$tag$), a
// quoted identifier ("...") or a comment (-- and /* */, which nest) is left
// alone. There is no escape for a literal ? outside those: write
// PostgreSQL's jsonb operators ?, ?| and ?& as the functions
// jsonb_exists, jsonb_exists_any and jsonb_exists_all, or write the query
// with $n for PostgreSQL alone.
//
// Rebind is written here rather than taken from github.com/jmoiron/sqlx:
// sqlx's Rebind replaces every ?, including those in literals and
// comments, and the package would be a dependency for one function.
func Rebind(dialect core.Dialect, query string) string {
	if dialect != core.DialectPostgres || strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		end := i + 1
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
			continue
		case c == '\'':
			end = skipQuoted(query, i, '\'', isEscapeString(query, i))
		case c == '"':
			end = skipQuoted(query, i, '"', false)
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end = strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query)
			} else {
				end += i + 1
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end = skipBlockComment(query, i)
		case c == '$':
			end = skipDollarQuoted(query, i)
		case isIdentByte(c):
			// Skip the whole word, so that a $ inside an identifier
			// (PostgreSQL allows foo$bar) is not taken for a quote.
			for end < len(query) && (isIdentByte(query[end]) || query[end] == '$' || isDigit(query[end])) {
				end++
			}
		}
		b.WriteString(query[i:end])
		i = end
	}
	return b.String()
}

// skipQuoted returns the index after the literal or identifier that
// starts with the quote q at i. A doubled quote stands for itself; with
// backslash, so does \q (E'...' strings). An unterminated one runs to the
// end.
func skipQuoted(s string, i int, q byte, backslash bool) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// isEscapeString reports whether the quote at i opens an E'...' string: it
// follows an E or e that is a word of its own.
func isEscapeString(s string, i int) bool {
	if i == 0 || (s[i-1] != 'E' && s[i-1] != 'e') {
		return false
	}
	return i == 1 || !(isIdentByte(s[i-2]) || isDigit(s[i-2]) || s[i-2] == '$')
}

// skipBlockComment returns the index after the /* comment */ at i;
// PostgreSQL's block comments nest.
func skipBlockComment(s string, i int) int {
	depth := 0
	for j := i; j+1 < len(s); {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j += 2
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j
			}
		default:
			j++
		}
	}
	return len(s)
}

// skipDollarQuoted returns the index after the $tag$...$tag$ string at i,
// or i+1 if the $ at i does not open one (as in the parameter $1).
func skipDollarQuoted(s string, i int) int {
	j := i + 1
	if j < len(s) && isIdentByte(s[j]) {
		for j < len(s) && (isIdentByte(s[j]) || isDigit(s[j])) {
			j++
		}
	}
	if j >= len(s) || s[j] != '$' {
		return i + 1
	}
	tag := s[i : j+1]
	k := strings.Index(s[j+1:], tag)
	if k < 0 {
		return len(s)
	}
	return j + 1 + k + len(tag)
}

// isIdentByte reports whether c may start an identifier: a letter, _, or
// a byte of a multi-byte UTF-8 character.
func isIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
