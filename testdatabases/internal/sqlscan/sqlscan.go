// Package sqlscan classifies SQL text by what a statement does to a
// session's transaction, without parsing SQL. It splits a string into
// statements the way the server's lexer does (quotes, comments, PostgreSQL
// dollar quoting, MySQL executable comments) and looks at the leading
// keywords of each one.
//
// The classification is deliberately conservative: anything that could end,
// start or escape the surrounding transaction is reported, and callers fall
// back to a slower but always-correct path. Where the server's reading of
// the text depends on settings the scanner cannot see (PostgreSQL's
// standard_conforming_strings, MySQL's NO_BACKSLASH_ESCAPES and ANSI_QUOTES
// modes, the server version that decides whether a versioned /*!NNNNN ...*/
// comment runs), the text is read every way it can be and the flags are
// combined. A hand-written scanner, because no Go library lexes both
// dialects and the check runs on every statement of a test.
package sqlscan

import "strings"

// Flags describe what the statements in one SQL string may do.
type Flags uint32

const (
	// TxControl: the text itself begins, ends or manipulates a transaction
	// (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT,
	// RELEASE, PREPARE TRANSACTION, SET TRANSACTION, XA ...), or, on MySQL,
	// runs a compound statement or a statement this package does not know.
	TxControl Flags = 1 << iota
	// ImplicitCommit: on MySQL/MariaDB the statement commits the current
	// transaction before (and after) it runs: DDL, account management,
	// LOCK TABLES, SET autocommit, ANALYZE/OPTIMIZE/REPAIR, FLUSH and
	// similar.
	ImplicitCommit
	// SessionState: the statement changes session state that a transaction
	// rollback does not undo (MySQL SET and temporary tables, PREPARE,
	// DEALLOCATE, USE, PostgreSQL DISCARD/PREPARE/LOAD ...).
	SessionState
	// Write: the statement may write rows or advance counters.
	Write
	// Call: the statement runs a stored procedure, a prepared statement or
	// a compound statement, whose body is opaque.
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

// all is the answer for text too convoluted to read every way.
const all = TxControl | ImplicitCommit | SessionState | Write | Call | DDL | Introspect

// Has reports whether all bits of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// maxCond bounds the MySQL conditional comments (/*!NNNNN and /*M!) whose
// two readings, run or skipped, are tried in every combination.
const maxCond = 6

// Classify returns the combined flags of every statement in sql.
// mysql selects MySQL/MariaDB rules (backtick quoting, # comments,
// executable comments, implicit commits); otherwise PostgreSQL/SQLite rules
// apply (dollar quoting, nested comments, E'...' strings).
func Classify(sql string, mysql bool) Flags {
	// The readings of quoted text: one, unless a backslash can mean two
	// things (an escape, or a plain character).
	modes := []lexMode{{backslash: mysql}}
	if strings.IndexByte(sql, '\\') >= 0 {
		if mysql {
			// NO_BACKSLASH_ESCAPES, and ANSI_QUOTES with escapes in '...'.
			modes = append(modes, lexMode{}, lexMode{backslash: true, ansiQuotes: true})
		} else {
			// standard_conforming_strings off.
			modes = append(modes, lexMode{backslash: true})
		}
	}
	cond := mysql && (strings.Contains(sql, "/*!") || strings.Contains(sql, "/*M!"))
	var f Flags
	for _, m := range modes {
		m.mysql = mysql
		if !cond {
			g, _ := scan(sql, m)
			f |= g
			continue
		}
		// Every combination of run and skipped conditional comments,
		// depth first: a choice can change which comments follow.
		type choice struct {
			run   uint64 // bit i: the i-th conditional comment runs
			fixed int    // choices below this index are made
		}
		stack := []choice{{}}
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			m.run = c.run
			g, n := scan(sql, m)
			f |= g
			if n > maxCond {
				return all
			}
			for i := c.fixed; i < n; i++ {
				stack = append(stack, choice{run: c.run | 1<<i, fixed: i + 1})
			}
		}
	}
	return f
}

// lexMode is one way of reading the text.
type lexMode struct {
	mysql bool
	// backslash: a backslash escapes the next character in '...' strings
	// (MySQL: and in "..." strings). PostgreSQL E'...' strings always
	// escape.
	backslash bool
	// ansiQuotes: MySQL reads "..." as an identifier.
	ansiQuotes bool
	// run: bit i set: the i-th MySQL conditional comment (/*!NNNNN ...*/
	// or /*M! ...*/) runs; otherwise it is a comment.
	run uint64
}

// stmt collects what the classification of one statement needs.
type stmt struct {
	tok [4]string // leading tokens: upper-cased keywords, or a marker
	n   int
	// seen records MySQL keywords met anywhere in the statement.
	seen uint8
}

const (
	seenAutocommit = 1 << iota
	seenPassword
)

// Markers for tokens that are not keywords.
const (
	tokOther   = "?" // punctuation, a number, an identifier that is no keyword
	tokLiteral = "'" // a string, quoted identifier or dollar-quoted text
	tokParen   = "("
	tokColon   = ":"
)

func (s *stmt) add(tok string) {
	if s.n < len(s.tok) {
		s.tok[s.n] = tok
	}
	s.n++
}

func (s *stmt) at(i int) string {
	if i < s.n && i < len(s.tok) {
		return s.tok[i]
	}
	return ""
}

// scan reads sql one way and returns the combined flags of its statements
// and the number of MySQL conditional comments it met.
func scan(sql string, m lexMode) (Flags, int) {
	var f Flags
	var cur stmt
	cond := 0   // conditional comments met
	inExec := 0 // MySQL executable comments open
	n := len(sql)
	for i := 0; i < n; {
		c := sql[i]
		switch {
		case c == ';':
			if cur.n > 0 {
				f |= classify(&cur, m.mysql)
			}
			cur = stmt{}
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			// \v is white space on MySQL and on PostgreSQL 16 and later.
			i++
		case c == '-' && i+1 < n && sql[i+1] == '-' && (!m.mysql || i+2 >= n || sql[i+2] <= ' ' || sql[i+2] == 0x7f):
			// MySQL needs white space or a control character after "--".
			// PostgreSQL ends the comment at \r too.
			i += 2
			for i < n && sql[i] != '\n' && (m.mysql || sql[i] != '\r') {
				i++
			}
		case m.mysql && c == '#':
			for i < n && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && sql[i+1] == '*':
			if m.mysql {
				if kind, body := execComment(sql, i); kind != 0 {
					run := kind == execRun
					if kind == execCond {
						run = cond < 64 && m.run&(1<<cond) != 0
						cond++
					}
					if run {
						inExec++
						i = body
						continue
					}
				}
				// Comments do not nest.
				if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
					i += 2 + j + 2
				} else {
					i = n
				}
				continue
			}
			i = skipNested(sql, i)
		case m.mysql && inExec > 0 && c == '*' && i+1 < n && sql[i+1] == '/':
			inExec--
			i += 2
		case c == '\'':
			esc := m.backslash
			i = skipQuoted(sql, i, c, esc)
			cur.add(tokLiteral)
		case c == '"':
			esc := m.mysql && m.backslash && !m.ansiQuotes
			start := i
			i = skipQuoted(sql, i, c, esc)
			if m.ansiQuotes {
				cur.seen |= seenIn(sql[start:i])
			}
			cur.add(tokLiteral)
		case m.mysql && c == '`':
			start := i
			i = skipQuoted(sql, i, c, false)
			cur.seen |= seenIn(sql[start:i])
			cur.add(tokLiteral)
		case !m.mysql && c == '$':
			if end := dollarTag(sql, i); end > i {
				tag := sql[i:end]
				if j := strings.Index(sql[end:], tag); j < 0 {
					i = n
				} else {
					i = end + j + len(tag)
				}
				cur.add(tokLiteral)
				continue
			}
			// A parameter ($1) or a stray dollar.
			i++
			for i < n && sql[i] >= '0' && sql[i] <= '9' {
				i++
			}
			cur.add(tokOther)
		case isWord(c):
			j := i
			for j < n && (isWord(sql[j]) || sql[j] == '$') {
				j++
			}
			w := sql[i:j]
			if !m.mysql && j < n && sql[j] == '\'' && isEPrefix(w) {
				// PostgreSQL E'...' string: backslash escapes.
				i = skipQuoted(sql, j, '\'', true)
				cur.add(tokLiteral)
				continue
			}
			if m.mysql {
				cur.seen |= seenWord(w)
			}
			if cur.n < len(cur.tok) {
				cur.add(keyword(w))
			}
			i = j
		case c == '(':
			cur.add(tokParen)
			i++
		case c == ':':
			cur.add(tokColon)
			i++
		default:
			cur.add(tokOther)
			i++
		}
	}
	if cur.n > 0 {
		f |= classify(&cur, m.mysql)
	}
	return f, cond
}

// How an executable comment reads.
const (
	execRun  = iota + 1 // it runs on every server
	execCond            // it runs on some servers only
)

// execComment reports whether the comment at i (at "/*") is a MySQL
// executable comment, and where its text starts: /*! ...*/ runs on MySQL
// and MariaDB (execRun), /*!NNNNN ...*/ on servers of at least that version
// (MariaDB reads versions differently, so both readings are possible) and
// /*M! ...*/ only on MariaDB (execCond). It returns 0 for a comment.
func execComment(sql string, i int) (kind, body int) {
	j := i + 2
	switch {
	case strings.HasPrefix(sql[j:], "!"):
		j++
		kind = execRun
	case strings.HasPrefix(sql[j:], "M!"):
		j += 2
		kind = execCond
	default:
		return 0, 0
	}
	if k := j; k < len(sql) && sql[k] >= '0' && sql[k] <= '9' {
		// A version: MySQL reads five digits, MariaDB five or six. Skipping
		// every digit reads no less of the text as keywords.
		for k < len(sql) && sql[k] >= '0' && sql[k] <= '9' {
			k++
		}
		return execCond, k
	}
	return kind, j
}

// skipNested skips a PostgreSQL comment at i, which may nest.
func skipNested(sql string, i int) int {
	n := len(sql)
	depth := 0
	for i < n {
		if i+1 < n && sql[i] == '/' && sql[i+1] == '*' {
			depth++
			i += 2
			continue
		}
		if i+1 < n && sql[i] == '*' && sql[i+1] == '/' {
			depth--
			i += 2
			if depth == 0 {
				return i
			}
			continue
		}
		i++
	}
	return n
}

// isEPrefix reports whether w, directly before a quote, makes it a
// PostgreSQL escape string: E'...', or a number's exponent marker that
// older servers give back to the string (1e'...').
func isEPrefix(w string) bool {
	last := w[len(w)-1]
	if last != 'e' && last != 'E' {
		return false
	}
	for k := 0; k < len(w)-1; k++ {
		if w[k] < '0' || w[k] > '9' {
			return false
		}
	}
	return true
}

// keyword returns w upper-cased, or tokOther when w cannot be a keyword
// (keywords are ASCII letters and underscores).
func keyword(w string) string {
	upper := true
	for k := 0; k < len(w); k++ {
		c := w[k]
		switch {
		case c >= 'a' && c <= 'z':
			upper = false
		case c >= 'A' && c <= 'Z', c == '_':
		default:
			return tokOther
		}
	}
	if upper {
		return w
	}
	return strings.ToUpper(w)
}

// seenWord returns the seen bits of a MySQL word.
func seenWord(w string) uint8 {
	switch {
	case len(w) == len("autocommit") && strings.EqualFold(w, "autocommit"):
		return seenAutocommit
	case len(w) == len("password") && strings.EqualFold(w, "password"):
		return seenPassword
	}
	return 0
}

// seenIn returns the seen bits of a quoted MySQL identifier (quotes
// included): `autocommit` names the variable too.
func seenIn(q string) uint8 {
	if len(q) < 2 {
		return 0
	}
	return seenWord(q[1 : len(q)-1])
}

func classify(s *stmt, mysql bool) Flags {
	if mysql {
		return classifyMySQL(s)
	}
	return classifyPostgres(s)
}

func classifyPostgres(s *stmt) Flags {
	switch s.at(0) {
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE":
		return TxControl
	case "START":
		if s.at(1) == "TRANSACTION" {
			return TxControl
		}
	case "PREPARE":
		if s.at(1) == "TRANSACTION" {
			return TxControl
		}
		return SessionState
	case "SET":
		if s.at(1) == "TRANSACTION" || (s.at(1) == "SESSION" && s.at(2) == "CHARACTERISTICS") {
			return TxControl
		}
		return 0 // PostgreSQL SET is transactional
	case "DEALLOCATE", "DISCARD", "UNLISTEN", "LISTEN", "RESET":
		return SessionState
	case "LOAD":
		// A shared library stays loaded.
		return SessionState | Write
	case "INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "UPSERT", "REPLACE":
		return Write
	case "CALL", "EXECUTE", "EXEC":
		return Call | Write
	case "DO":
		// An anonymous block may not commit inside a transaction.
		return Write
	case "SELECT", "WITH":
		// A data-modifying CTE or a function may write.
		return Write
	case "VALUES", "TABLE", "SHOW", "EXPLAIN", tokParen:
		return 0
	case "CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "GRANT", "REVOKE", "REINDEX", "CLUSTER", "REFRESH", "SECURITY", "IMPORT":
		// PostgreSQL and SQLite DDL is transactional.
		return Write | DDL
	}
	return Write
}

func classifyMySQL(s *stmt) Flags {
	if s.at(1) == tokColon {
		// A labelled compound statement (MariaDB runs them outside
		// routines): its body may commit.
		return TxControl | Call
	}
	switch s.at(0) {
	case "BEGIN":
		if s.at(1) == "NOT" {
			// BEGIN NOT ATOMIC ... END compound statement.
			return TxControl | Call
		}
		return TxControl
	case "IF", "CASE", "LOOP", "REPEAT", "WHILE", "FOR":
		// Compound statements.
		return TxControl | Call
	case "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA":
		return TxControl
	case "START":
		if s.at(1) == "TRANSACTION" {
			return TxControl
		}
		return ImplicitCommit // START SLAVE/REPLICA
	case "PREPARE":
		if s.at(1) == "TRANSACTION" {
			return TxControl
		}
		return SessionState
	case "SET":
		switch {
		case s.at(1) == "TRANSACTION":
			return TxControl
		case s.at(1) == "STATEMENT":
			// SET STATEMENT ... FOR <any statement>.
			return all
		case s.at(1) == "DEFAULT" || s.seen != 0:
			// autocommit (anywhere in the list, in any spelling),
			// PASSWORD, DEFAULT ROLE.
			return ImplicitCommit | SessionState
		}
		return SessionState
	case "DEALLOCATE", "USE", "HANDLER":
		return SessionState
	case "RESET":
		return ImplicitCommit
	case "INSERT", "REPLACE", "UPDATE", "DELETE", "LOAD":
		if s.at(0) == "LOAD" && s.at(1) == "INDEX" {
			return ImplicitCommit
		}
		return Write
	case "CALL", "EXECUTE":
		// A procedure or a prepared statement may commit.
		return Call | Write
	case "DO":
		// Expressions; none may commit.
		return Write
	case "SELECT", "WITH":
		return Write
	case "VALUES", "TABLE", "DESCRIBE", "DESC", "EXPLAIN", "HELP", tokParen:
		return 0
	case "SHOW":
		if s.at(1) == "CREATE" || (s.at(1) == "TABLE" && s.at(2) == "STATUS") {
			return Introspect
		}
		return 0
	case "SIGNAL", "RESIGNAL", "GET":
		return 0
	case "CREATE", "DROP":
		if s.at(1) == "TEMPORARY" {
			return SessionState | Write
		}
		return ImplicitCommit | Write | DDL
	case "ALTER", "RENAME", "TRUNCATE":
		return ImplicitCommit | Write | DDL
	case "GRANT", "REVOKE", "LOCK", "UNLOCK",
		"ANALYZE", "OPTIMIZE", "REPAIR", "FLUSH", "CACHE", "INSTALL", "UNINSTALL",
		"CHECKSUM", "PURGE", "CHANGE", "STOP", "KILL", "BACKUP", "SHUTDOWN", "CHECK",
		"IMPORT", "CLONE", "RESTART": // MySQL 8: IMPORT TABLE, CLONE ..., RESTART
		return ImplicitCommit | Write
	}
	// Unknown (including text the server will reject as a syntax error):
	// it may write and may commit, like a procedure. Call, not TxControl:
	// the session keeps the test's transaction (a syntax error inside it
	// must not end it, as on a real connection) but is never trusted for
	// reuse (the database is replaced after the test).
	return Write | Call
}

// skipQuoted returns the end of the quoted text at i (quote q; a doubled
// quote stands for itself; esc: a backslash escapes the next byte).
func skipQuoted(s string, i int, q byte, esc bool) int {
	n := len(s)
	i++
	for i < n {
		c := s[i]
		if c == '\\' && esc {
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
// A tag is an identifier without dollars, not starting with a digit.
func dollarTag(s string, i int) int {
	j := i + 1
	for j < len(s) && isWord(s[j]) && !(j == i+1 && s[j] >= '0' && s[j] <= '9') {
		j++
	}
	if j < len(s) && s[j] == '$' {
		return j + 1
	}
	return i
}

// isWord reports whether c can be part of an identifier, a keyword or a
// number (and, after the first character, so can '$').
func isWord(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}
