package sqlkit_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/sqlkit"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"INSERT INTO t (a, b) VALUES (?,?)", "INSERT INTO t (a, b) VALUES ($1,$2)"},
		{"?", "$1"},
		{"??", "$1$2"},
		{strings.Repeat("?,", 11) + "?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12"},
		// String literals.
		{"SELECT '?' , ?", "SELECT '?' , $1"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{`SELECT 'a\', ?`, `SELECT 'a\', $1`}, // standard strings: \ is not an escape
		{`SELECT E'a\'?', ?`, `SELECT E'a\'?', $1`},
		{`SELECT e'\\', ?`, `SELECT e'\\', $1`},
		{`SELECT xe'\', ?`, `SELECT xe'\', $1`}, // not an E string: xe is one word
		{"SELECT U&'d\\0061t?', ?", "SELECT U&'d\\0061t?', $1"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		// Quoted identifiers.
		{`SELECT "a?b", ? FROM "t""?"`, `SELECT "a?b", $1 FROM "t""?"`},
		// Comments.
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"SELECT ? -- to the end?", "SELECT $1 -- to the end?"},
		{"SELECT ? /* a? /* nested? */ still? */ , ?", "SELECT $1 /* a? /* nested? */ still? */ , $2"},
		{"SELECT 1 - ?, 4/?", "SELECT 1 - $1, 4/$2"},
		{"SELECT ? /* open ?", "SELECT $1 /* open ?"},
		// Dollar quoting.
		{"SELECT $$a?b$$, ?", "SELECT $$a?b$$, $1"},
		{"SELECT $fn$ a $$?$$ b $fn$, ?", "SELECT $fn$ a $$?$$ b $fn$, $1"},
		{"SELECT $_1$?$_1$, ?", "SELECT $_1$?$_1$, $1"},
		{"SELECT $1, ?", "SELECT $1, $1"}, // a parameter, not a quote; mixing styles is the caller's mistake
		{"SELECT a$b, ? FROM t", "SELECT a$b, $1 FROM t"},
		{"SELECT foo$bar$ ? $bar$", "SELECT foo$bar$ $1 $bar$"}, // foo$bar$ is an identifier
		{"SELECT $$ open ?", "SELECT $$ open ?"},
		// Multibyte text around.
		{"SELECT 'é?', ? AS ü", "SELECT 'é?', $1 AS ü"},
	}
	for _, tt := range tests {
		if got := sqlkit.Rebind(core.DialectPostgres, tt.in); got != tt.want {
			t.Errorf("Rebind(postgres, %q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		for _, d := range []core.Dialect{core.DialectSQLite, core.DialectMySQL} {
			if got := sqlkit.Rebind(d, tt.in); got != tt.in {
				t.Errorf("Rebind(%s, %q) = %q, want it unchanged", d, tt.in, got)
			}
		}
	}
}

// simpleTokens is an independent, simpler reading of the SQL that FuzzRebind
// compares Rebind with: a regular expression for literals, identifiers
// and comments that do not nest and hold no dollar quoting or E strings.
var simpleTokens = regexp.MustCompile(`'(?:[^']|'')*'?|"(?:[^"]|"")*"?|--[^\n]*|/\*(?:[^*]|\*+[^*/])*(?:\*+/)?|\?`)

// FuzzRebind checks that Rebind leaves non-PostgreSQL queries alone, that
// for PostgreSQL its output is the query with some ? replaced by $1, $2,
// ... in order and nothing else changed, and, for queries without dollar
// quotes, E strings or nested comments, that exactly the ? outside quotes
// and comments are replaced. Seeds are in testdata/fuzz/FuzzRebind.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{"SELECT ?", "'?'", `"?"`, "-- ?\n?", "/* ? */ ?", "$$?$$ ?", `E'\'?' ?`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, d := range []core.Dialect{core.DialectSQLite, core.DialectMySQL} {
			if got := sqlkit.Rebind(d, q); got != q {
				t.Fatalf("Rebind(%s, %q) = %q, want it unchanged", d, q, got)
			}
		}
		got := sqlkit.Rebind(core.DialectPostgres, q)
		// Align got with q: equal bytes, or a ? replaced by the next $n.
		var replaced []int // offsets in q of the replaced ?
		i, j := 0, 0
		for i < len(q) {
			if j < len(got) && got[j] == q[i] {
				i, j = i+1, j+1
				continue
			}
			want := "$" + strconv.Itoa(len(replaced)+1)
			if q[i] != '?' || !strings.HasPrefix(got[j:], want) {
				t.Fatalf("Rebind(postgres, %q) = %q: differs at byte %d of the query other than by a $n for a ?", q, got, i)
			}
			replaced = append(replaced, i)
			i, j = i+1, j+len(want)
		}
		if j != len(got) {
			t.Fatalf("Rebind(postgres, %q) = %q: adds %q at the end", q, got, got[j:])
		}
		if strings.ContainsAny(q, "$\\") || strings.Contains(q, "/*/") || strings.Count(q, "/*") > strings.Count(q, "*/") || strings.Count(q, "/*") > 1 {
			return // beyond what simpleTokens reads
		}
		var want []int
		for _, m := range simpleTokens.FindAllStringIndex(q, -1) {
			if q[m[0]:m[1]] == "?" {
				want = append(want, m[0])
			}
		}
		if !slices.Equal(replaced, want) {
			t.Fatalf("Rebind(postgres, %q) = %q: replaced the ? at %v, want those at %v", q, got, replaced, want)
		}
	})
}
