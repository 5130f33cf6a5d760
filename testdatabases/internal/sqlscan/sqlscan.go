// Package sqlscan classifies SQL text by what a statement does to a
// session's transaction, without parsing SQL. It splits a string into
// statements (honouring quotes, comments and PostgreSQL dollar quoting) and
// looks at the leading keywords of each one.
//
// The classification is deliberately conservative: anything that could end,
// start or escape the surrounding transaction is reported, and callers fall
// back to a slower but always-correct path.
package sqlscan

import "strings"

// Flags describe what the statements in one SQL string may do.
type Flags uint32

const (
	// TxControl: the text itself begins, ends or manipulates a transaction
	// (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT,
	// RELEASE, PREPARE TRANSACTION, XA ...).
	TxControl Flags = 1 << iota
	// ImplicitCommit: on MySQL/MariaDB the statement commits the current
	// transaction before (and after) it runs: DDL, account management,
	// LOCK TABLES, ANALYZE/OPTIMIZE/REPAIR, FLUSH and similar.
	ImplicitCommit
	// SessionState: the statement changes session state that a transaction
	// rollback does not undo (MySQL SET and temporary tables, PREPARE,
	// DEALLOCATE, USE, PostgreSQL DISCARD/PREPARE ...).
	SessionState
	// Write: the statement may write rows or advance counters.
	Write
	// Call: the statement runs a stored procedure, whose body is opaque.
	Call
	// DDL: the statement changes the schema (CREATE, ALTER, DROP ...).
	DDL
	// Introspect: on MySQL/MariaDB the statement describes tables in a way
	// that tells a TEMPORARY table from a base table of the same name
	// (SHOW CREATE TABLE, SHOW TABLE STATUS). Statements that read
	// information_schema are not recognised here (their first keywords are
	// SELECT); callers look for the name in the text.
	Introspect
)

// Has reports whether all bits of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Classify returns the combined flags of every statement in sql.
// mysql selects MySQL/MariaDB rules (backtick quoting, # comments, implicit
// commits); otherwise PostgreSQL/SQLite rules apply (dollar quoting).
func Classify(sql string, mysql bool) Flags {
	var f Flags
	for _, words := range Statements(sql, mysql, 3) {
		f |= classify(words, mysql)
	}
	return f
}

func classify(w []string, mysql bool) Flags {
	if len(w) == 0 {
		return 0
	}
	at := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	switch w[0] {
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "XA":
		if w[0] == "BEGIN" && mysql && at(1) != "" && at(1) != "WORK" {
			// BEGIN NOT ATOMIC ... compound statement.
			return Call
		}
		return TxControl
	case "START":
		if at(1) == "TRANSACTION" {
			return TxControl
		}
		if mysql {
			return ImplicitCommit // START SLAVE/REPLICA
		}
	case "PREPARE":
		if at(1) == "TRANSACTION" {
			return TxControl
		}
		return SessionState
	case "SET":
		if at(1) == "TRANSACTION" || (at(1) == "SESSION" && at(2) == "CHARACTERISTICS") {
			return TxControl
		}
		if mysql {
			if at(1) == "AUTOCOMMIT" || at(1) == "PASSWORD" {
				return ImplicitCommit | SessionState
			}
			return SessionState
		}
		if at(1) == "CONSTRAINTS" || at(1) == "LOCAL" {
			return 0
		}
		return 0 // PostgreSQL SET is transactional
	case "DEALLOCATE", "DISCARD", "USE", "HANDLER", "UNLISTEN", "LISTEN", "RESET":
		if mysql && w[0] == "RESET" {
			return ImplicitCommit
		}
		return SessionState
	case "INSERT", "REPLACE", "UPDATE", "DELETE", "MERGE", "COPY", "LOAD", "UPSERT":
		if mysql && w[0] == "LOAD" && at(1) == "INDEX" {
			return ImplicitCommit
		}
		return Write
	case "CALL", "EXECUTE", "EXEC":
		// A procedure or a prepared statement may commit (MySQL).
		return Call | Write
	case "DO":
		// Expressions or an anonymous block; neither may commit inside a
		// transaction.
		return Write
	case "SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "(":
		if mysql && w[0] == "SHOW" && (at(1) == "CREATE" || (at(1) == "TABLE" && at(2) == "STATUS")) {
			return Introspect
		}
		if w[0] == "WITH" || w[0] == "SELECT" {
			// A data-modifying CTE or a function may write.
			return Write
		}
		return 0
	}
	if !mysql {
		// PostgreSQL and SQLite DDL is transactional.
		switch w[0] {
		case "CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "GRANT", "REVOKE", "REINDEX", "CLUSTER", "REFRESH", "SECURITY", "IMPORT":
			return Write | DDL
		}
		return Write
	}
	switch w[0] {
	case "CREATE", "DROP":
		if at(1) == "TEMPORARY" {
			return SessionState | Write
		}
		return ImplicitCommit | Write | DDL
	case "ALTER", "RENAME", "TRUNCATE":
		return ImplicitCommit | Write | DDL
	case "GRANT", "REVOKE", "LOCK", "UNLOCK",
		"ANALYZE", "OPTIMIZE", "REPAIR", "FLUSH", "CACHE", "INSTALL", "UNINSTALL",
		"CHECKSUM", "PURGE", "CHANGE", "STOP", "KILL", "BACKUP", "SHUTDOWN", "CHECK":
		return ImplicitCommit | Write
	}
	return Write | Call // unknown: assume the worst
}

// Statements splits sql into statements and returns up to max leading
// upper-cased keywords of each (an opening parenthesis counts as a keyword).
// Empty statements are dropped.
func Statements(sql string, mysql bool, max int) [][]string {
	var out [][]string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur = nil
	}
	n := len(sql)
	for i := 0; i < n; {
		c := sql[i]
		switch {
		case c == ';':
			flush()
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '-' && i+1 < n && sql[i+1] == '-', mysql && c == '#':
			for i < n && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && sql[i+1] == '*':
			depth := 0
			for i < n {
				if i+1 < n && sql[i] == '/' && sql[i+1] == '*' {
					depth++
					i += 2
					if mysql {
						// MySQL does not nest comments.
						for i < n && !(i+1 < n && sql[i] == '*' && sql[i+1] == '/') {
							i++
						}
						i += 2
						depth = 0
						break
					}
					continue
				}
				if i+1 < n && sql[i] == '*' && sql[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
					continue
				}
				i++
			}
		case c == '\'' || c == '"' || (mysql && c == '`'):
			i = skipQuoted(sql, i, c, mysql)
			cur = appendWord(cur, "", max)
		case !mysql && c == '$' && (i == 0 || !isIdent(sql[i-1])):
			if end := dollarTag(sql, i); end > i {
				tag := sql[i:end]
				j := strings.Index(sql[end:], tag)
				if j < 0 {
					i = n
				} else {
					i = end + j + len(tag)
				}
				cur = appendWord(cur, "", max)
			} else {
				i++
			}
		case isIdent(c):
			j := i
			for j < n && isIdent(sql[j]) {
				j++
			}
			cur = appendWord(cur, strings.ToUpper(sql[i:j]), max)
			i = j
		case c == '(':
			cur = appendWord(cur, "(", max)
			i++
		default:
			cur = appendWord(cur, "", max)
			i++
		}
	}
	flush()
	return out
}

// appendWord records a keyword while fewer than max words were seen; the
// empty string stands for a non-keyword token and is kept only to mark that
// the statement is not empty.
func appendWord(cur []string, w string, max int) []string {
	if len(cur) >= max {
		return cur
	}
	if w == "" {
		if len(cur) == 0 {
			return append(cur, "?")
		}
		// Stop collecting keywords after the first non-keyword token.
		for len(cur) < max {
			cur = append(cur, "")
		}
		return cur
	}
	return append(cur, w)
}

func skipQuoted(s string, i int, q byte, mysql bool) int {
	n := len(s)
	i++
	for i < n {
		c := s[i]
		if c == '\\' && mysql && q != '`' {
			i += 2
			continue
		}
		if c == q {
			if i+1 < n && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return n
}

// dollarTag returns the end of a $tag$ opener at i, or i when there is none.
func dollarTag(s string, i int) int {
	j := i + 1
	for j < len(s) && (isIdent(s[j]) && !(s[j] >= '0' && s[j] <= '9' && j == i+1)) {
		j++
	}
	if j < len(s) && s[j] == '$' {
		return j + 1
	}
	return i
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}
