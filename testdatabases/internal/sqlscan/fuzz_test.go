package sqlscan

import (
	"fmt"
	"strings"
	"testing"
)

// The fuzz targets below spell statements the way a test could: any case,
// any white space or comment between tokens, identifiers and strings
// quoted every way the dialect allows and holding any text, and other
// statements before and after, separated by semicolons. Every spelling
// means the same statement to the server (the renderer below only emits
// text that the server's lexer reads one way, whatever its settings), so
// its classification must not depend on the spelling.
//
// The oracle of FuzzClassifyNeverMissesAnEscape is the list of statements
// that end or escape a transaction (or leave session state behind, or run
// an opaque body): classifying one of them without its flags is a
// failure. False positives are safe (the caller takes the slow path), so
// the inverse, FuzzClassifyIgnoresLiteralsAndComments, only checks what
// holds soundly: the text inside string literals, quoted identifiers and
// comments never changes the classification.
//
// A template is literal text with markers: ' ' is white space or a
// comment (at least one character), '~' the same or nothing (only next to
// punctuation), '^' one plain space, and {id}, {str}, {num} an identifier,
// a string literal and a number. Letters change case (but for the M of
// MariaDB's /*M! comments). The fuzz inputs name
// templates by index: append new ones at the end, so that the seeds in
// testdata/fuzz keep naming theirs.

// escape is a statement the classification must report.
type escape struct {
	tmpl string
	need Flags // at least one of these must be set
}

// Statements that end or escape the transaction, that leave session state
// a rollback does not undo, or that change the schema, on PostgreSQL.
var pgEscapes = []escape{
	{"BEGIN", TxControl}, {"BEGIN WORK", TxControl}, {"BEGIN TRANSACTION", TxControl},
	{"BEGIN ISOLATION LEVEL SERIALIZABLE", TxControl}, {"BEGIN READ ONLY", TxControl},
	{"START TRANSACTION", TxControl}, {"START TRANSACTION READ WRITE", TxControl},
	{"COMMIT", TxControl}, {"COMMIT WORK", TxControl}, {"COMMIT TRANSACTION", TxControl},
	{"COMMIT AND CHAIN", TxControl}, {"COMMIT AND NO CHAIN", TxControl},
	{"END", TxControl}, {"END WORK", TxControl}, {"END TRANSACTION", TxControl},
	{"ROLLBACK", TxControl}, {"ROLLBACK WORK", TxControl}, {"ROLLBACK AND CHAIN", TxControl},
	{"ABORT", TxControl}, {"ABORT TRANSACTION", TxControl},
	{"SAVEPOINT {id}", TxControl}, {"RELEASE {id}", TxControl}, {"RELEASE SAVEPOINT {id}", TxControl},
	{"ROLLBACK TO {id}", TxControl}, {"ROLLBACK TO SAVEPOINT {id}", TxControl},
	{"ROLLBACK WORK TO SAVEPOINT {id}", TxControl},
	{"PREPARE TRANSACTION {str}", TxControl}, {"COMMIT PREPARED {str}", TxControl},
	{"ROLLBACK PREPARED {str}", TxControl},
	{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", TxControl}, {"SET TRANSACTION READ ONLY", TxControl},
	{"SET TRANSACTION SNAPSHOT {str}", TxControl},
	{"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE", TxControl},
	{"PREPARE {id} AS SELECT 1", SessionState | TxControl},
	{"PREPARE {id}~(~int~)~AS SELECT $1", SessionState | TxControl},
	{"DEALLOCATE {id}", SessionState | TxControl}, {"DEALLOCATE PREPARE {id}", SessionState | TxControl},
	{"DEALLOCATE ALL", SessionState | TxControl}, {"DISCARD ALL", SessionState | TxControl},
	{"DISCARD PLANS", SessionState | TxControl}, {"DISCARD SEQUENCES", SessionState | TxControl},
	{"DISCARD TEMP", SessionState | TxControl}, {"LOAD {str}", SessionState | TxControl},
	{"CREATE TABLE {id}~(~{id} int~)", DDL | TxControl}, {"ALTER TABLE {id} ADD COLUMN {id} int", DDL | TxControl},
	{"DROP TABLE {id}", DDL | TxControl}, {"TRUNCATE {id}", DDL | TxControl},
	{"CREATE INDEX {id} ON {id}~(~{id}~)", DDL | TxControl},
}

// myCommit: the statement commits (or may commit) on MySQL/MariaDB.
const myCommit = TxControl | ImplicitCommit

// The same for MySQL and MariaDB, with statements that commit implicitly.
var myEscapes = []escape{
	{"BEGIN", myCommit}, {"BEGIN WORK", myCommit}, {"START TRANSACTION", myCommit},
	{"START TRANSACTION READ ONLY", myCommit}, {"START TRANSACTION WITH CONSISTENT SNAPSHOT", myCommit},
	{"COMMIT", myCommit}, {"COMMIT WORK", myCommit}, {"COMMIT AND CHAIN", myCommit}, {"COMMIT RELEASE", myCommit},
	{"ROLLBACK", myCommit}, {"ROLLBACK WORK", myCommit}, {"ROLLBACK AND NO CHAIN", myCommit},
	{"SAVEPOINT {id}", myCommit}, {"RELEASE SAVEPOINT {id}", myCommit}, {"ROLLBACK TO {id}", myCommit},
	{"ROLLBACK TO SAVEPOINT {id}", myCommit}, {"ROLLBACK WORK TO SAVEPOINT {id}", myCommit},
	{"XA START {str}", myCommit}, {"XA BEGIN {str}", myCommit}, {"XA END {str}", myCommit},
	{"XA PREPARE {str}", myCommit}, {"XA COMMIT {str}", myCommit}, {"XA COMMIT {str} ONE PHASE", myCommit},
	{"XA ROLLBACK {str}", myCommit}, {"XA RECOVER", myCommit},
	{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", myCommit}, {"SET TRANSACTION READ ONLY", myCommit},
	{"SET autocommit~=~{num}", myCommit}, {"SET autocommit~:=~{num}", myCommit},
	{"SET @@autocommit~=~{num}", myCommit}, {"SET @@session.autocommit~=~{num}", myCommit},
	{"SET @@local.autocommit~=~1", myCommit}, {"SET SESSION autocommit~=~1", myCommit},
	{"SET LOCAL autocommit~=~1", myCommit}, {"SET @v~=~{num}~,~autocommit~=~1", myCommit},
	{"SET sql_mode~=~{str}~,~@@session.autocommit~=~ON", myCommit}, {"SET `autocommit`~=~1", myCommit},
	{"SET @@session.`autocommit`~=~1", myCommit}, {"SET autocommit~=~DEFAULT", myCommit},
	{"SET PASSWORD~=~PASSWORD~(~{str}~)", myCommit}, {"SET PASSWORD FOR {id}~=~{str}", myCommit},
	{"SET DEFAULT ROLE NONE FOR {id}", myCommit},
	{"SET STATEMENT max_statement_time~=~1 FOR COMMIT", myCommit},
	{"SET STATEMENT max_statement_time~=~1 FOR CREATE TABLE {id}~(~a int~)", myCommit},
	{"LOCK TABLES {id} WRITE", myCommit}, {"LOCK TABLE {id} READ", myCommit},
	{"UNLOCK TABLES", myCommit}, {"UNLOCK TABLE", myCommit},
	{"CREATE TABLE {id}~(~{id} int~)", myCommit}, {"CREATE TABLE IF NOT EXISTS {id}~(~a int~)", myCommit},
	{"CREATE OR REPLACE TABLE {id}~(~a int~)", myCommit}, {"CREATE INDEX {id} ON {id}~(~a~)", myCommit},
	{"CREATE UNIQUE INDEX {id} ON {id}~(~a~)", myCommit}, {"CREATE VIEW {id} AS SELECT 1", myCommit},
	{"CREATE DATABASE {id}", myCommit}, {"CREATE SCHEMA {id}", myCommit},
	{"CREATE PROCEDURE {id}~(~)~SELECT 1", myCommit}, {"CREATE FUNCTION {id}~(~)~RETURNS int RETURN 1", myCommit},
	{"CREATE TRIGGER {id} BEFORE INSERT ON {id} FOR EACH ROW SET @v~=~1", myCommit},
	{"CREATE EVENT {id} ON SCHEDULE EVERY 1 DAY DO SELECT 1", myCommit},
	{"CREATE USER {id}", myCommit}, {"CREATE ROLE {id}", myCommit}, {"CREATE SEQUENCE {id}", myCommit},
	{"CREATE DEFINER~=~{id} VIEW {id} AS SELECT 1", myCommit},
	{"ALTER TABLE {id} ADD COLUMN {id} int", myCommit}, {"ALTER TABLE {id} AUTO_INCREMENT~=~1", myCommit},
	{"ALTER DATABASE {id} CHARACTER SET utf8mb4", myCommit}, {"ALTER VIEW {id} AS SELECT 1", myCommit},
	{"ALTER USER {id} ACCOUNT LOCK", myCommit}, {"ALTER EVENT {id} DISABLE", myCommit},
	{"DROP TABLE {id}", myCommit}, {"DROP TABLE IF EXISTS {id}", myCommit}, {"DROP INDEX {id} ON {id}", myCommit},
	{"DROP VIEW {id}", myCommit}, {"DROP DATABASE {id}", myCommit}, {"DROP PROCEDURE {id}", myCommit},
	{"DROP USER {id}", myCommit},
	{"RENAME TABLE {id} TO {id}", myCommit}, {"RENAME USER {id} TO {id}", myCommit},
	{"TRUNCATE {id}", myCommit}, {"TRUNCATE TABLE {id}", myCommit},
	{"GRANT SELECT ON {id} TO {id}", myCommit}, {"REVOKE SELECT ON {id} FROM {id}", myCommit},
	{"ANALYZE TABLE {id}", myCommit}, {"ANALYZE NO_WRITE_TO_BINLOG TABLE {id}", myCommit},
	{"OPTIMIZE TABLE {id}", myCommit}, {"REPAIR TABLE {id}", myCommit}, {"CHECK TABLE {id}", myCommit},
	{"FLUSH TABLES", myCommit}, {"FLUSH PRIVILEGES", myCommit}, {"FLUSH TABLES WITH READ LOCK", myCommit},
	{"CACHE INDEX {id} IN {id}", myCommit}, {"LOAD INDEX INTO CACHE {id}", myCommit},
	{"RESET QUERY CACHE", myCommit}, {"RESET MASTER", myCommit},
	{"START SLAVE", myCommit}, {"START REPLICA", myCommit}, {"STOP SLAVE", myCommit},
	{"CHANGE MASTER TO MASTER_HOST~=~{str}", myCommit},
	{"INSTALL PLUGIN {id} SONAME {str}", myCommit}, {"UNINSTALL PLUGIN {id}", myCommit}, {"INSTALL SONAME {str}", myCommit},
	// Compound statements, which MariaDB runs outside routines.
	{"BEGIN NOT ATOMIC COMMIT~;~END", myCommit}, {"IF 1 THEN COMMIT~;~END IF", myCommit},
	{"REPEAT COMMIT~;~UNTIL 1 END REPEAT", myCommit}, {"WHILE 1 DO COMMIT~;~END WHILE", myCommit},
	{"CASE WHEN 1 THEN COMMIT~;~END CASE", myCommit}, {"FOR i IN 1~..~2 DO COMMIT~;~END FOR", myCommit},
	{"{id}~:~BEGIN NOT ATOMIC COMMIT~;~END", myCommit},
	// Executable comments: their text runs.
	{"/*!COMMIT*/", myCommit}, {"/*!50000^COMMIT^*/", myCommit}, {"/*!100000COMMIT*/", myCommit},
	{"/*M!COMMIT^*/", myCommit}, {"/*M!100000^COMMIT*/", myCommit},
	{"DROP^/*!40005^TEMPORARY^*/^TABLE {id}", myCommit}, {"CREATE^/*!32302^TEMPORARY^*/^TABLE {id}~(~a int~)", myCommit},
	// Opaque bodies: procedures, prepared statements.
	{"CALL {id}~(~)", myCommit | Call}, {"CALL {id}", myCommit | Call}, {"EXECUTE {id}", myCommit | Call},
	{"EXECUTE {id} USING @v", myCommit | Call}, {"EXECUTE IMMEDIATE {str}", myCommit | Call},
	// Session state a rollback does not undo.
	{"SET @v~=~{num}", myCommit | SessionState}, {"SET @@session.sql_mode~=~{str}", myCommit | SessionState},
	{"SET sql_mode~=~{str}", myCommit | SessionState}, {"SET NAMES utf8mb4", myCommit | SessionState},
	{"SET CHARACTER SET utf8mb4", myCommit | SessionState},
	{"SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE", myCommit | SessionState},
	{"USE {id}", myCommit | SessionState}, {"PREPARE {id} FROM {str}", myCommit | SessionState},
	{"DEALLOCATE PREPARE {id}", myCommit | SessionState}, {"DROP PREPARE {id}", myCommit | SessionState},
	{"HANDLER {id} OPEN", myCommit | SessionState},
	{"CREATE TEMPORARY TABLE {id}~(~a int~)", myCommit | SessionState},
	{"DROP TEMPORARY TABLE {id}", myCommit | SessionState},
	// Statements that tell a temporary table from a base table.
	{"SHOW CREATE TABLE {id}", myCommit | Call | Introspect}, {"SHOW TABLE STATUS", myCommit | Call | Introspect},
	{"SHOW TABLE STATUS LIKE {str}", myCommit | Call | Introspect},
	// MySQL 8 statements that commit implicitly.
	{"IMPORT TABLE FROM {str}", myCommit}, {"CLONE LOCAL DATA DIRECTORY~=~{str}", myCommit}, {"RESTART", myCommit},
}

// Statements that neither escape nor change session state, to put around
// the one under test.
var (
	pgNeutral = []string{
		"SELECT {str}", "SELECT {num}~,~{str}", "SELECT {num} AS {id}",
		"INSERT INTO {id} VALUES~(~{str}~,~{num}~)", "UPDATE {id} SET {id}~=~{str} WHERE {id}~=~{num}",
		"SELECT {id} FROM {id} WHERE {id} LIKE {str}", "DO {str}", "VALUES~(~{str}~)",
		"NOTIFY {id}~,~{str}", "SELECT {str}~::~text", "SELECT {num}~#~{num}",
	}
	myNeutral = []string{
		"SELECT {str}", "SELECT {num}~,~{str}", "SELECT {num} AS {id}",
		"INSERT INTO {id} VALUES~(~{str}~,~{num}~)", "UPDATE {id} SET {id}~=~{str} WHERE {id}~=~{num}",
		"DO {num}", "SELECT {str} FROM DUAL", "SELECT {id} FROM {id} WHERE {id} LIKE {str}",
		"SELECT {num}--{num}", "SELECT {num}~-~-{num}",
	}
)

// speller renders templates, taking its choices from the fuzzer's bytes
// (the canonical spelling once they run out) and the text of identifiers,
// strings and comments from its contents.
type speller struct {
	mysql    bool
	choices  []byte
	bits     byte // case bits left of the last byte taken
	nbits    int
	contents []string
	// empty makes every content empty, for the inverse property.
	empty bool
	// reading, when not zero, lets string literals take spellings that
	// only one reading of the text gives the intended meaning: every
	// literal of the text is spelled for that reading. (PostgreSQL:
	// 1 standard_conforming_strings on, 2 off; MySQL: 1 backslash
	// escapes, 2 NO_BACKSLASH_ESCAPES.)
	reading int
}

func (s *speller) choose(n int) int {
	if len(s.choices) == 0 {
		return 0
	}
	c := int(s.choices[0]) % n
	s.choices = s.choices[1:]
	return c
}

func (s *speller) bit() bool {
	if s.nbits == 0 {
		if len(s.choices) == 0 {
			return false
		}
		s.bits, s.nbits = s.choices[0], 8
		s.choices = s.choices[1:]
	}
	b := s.bits&1 != 0
	s.bits >>= 1
	s.nbits--
	return b
}

func (s *speller) content() string {
	if len(s.contents) == 0 {
		return ""
	}
	c := s.contents[0]
	s.contents = s.contents[1:]
	if s.empty {
		return ""
	}
	// No server reads a NUL byte as part of a statement.
	return strings.ReplaceAll(c, "\x00", "")
}

// commentText returns c safe inside /* */: no comment opens or closes in
// it (nor with the comment's own delimiters), and it does not make the
// comment an executable one or a hint.
func commentText(c string) string {
	for strings.Contains(c, "/*") || strings.Contains(c, "*/") {
		c = strings.ReplaceAll(strings.ReplaceAll(c, "/*", "/"), "*/", "/")
	}
	return " " + c + " "
}

// lineText returns c safe in a comment that ends at the line's end.
func lineText(c string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(c)
}

// gap returns white space or a comment; empty only when optional.
func (s *speller) gap(optional bool) string {
	n := 14
	if optional {
		n++
	}
	c := s.choose(n)
	if optional {
		if c == 0 {
			return ""
		}
		c--
	}
	switch c {
	case 0:
		return " "
	case 1:
		return "\t"
	case 2:
		return "\n"
	case 3:
		return "\r\n"
	case 4:
		return "\f"
	case 5:
		return "\v"
	case 6:
		return " \t\n  "
	case 7:
		return "\r"
	case 8:
		return "/*" + commentText(s.content()) + "*/"
	case 9:
		return "-- " + lineText(s.content()) + "\n"
	case 10:
		if s.mysql {
			return "#" + lineText(s.content()) + "\n"
		}
		return "/*" + commentText(s.content()) + "/*" + commentText(s.content()) + "*/ */"
	case 11:
		if s.mysql {
			return "--\t" + lineText(s.content()) + "\n"
		}
		return "--" + lineText(s.content()) + "\r"
	case 12:
		if s.mysql {
			return "/*!*/"
		}
		return "--\n"
	default:
		if s.mysql {
			return "/*!50000 */"
		}
		return "/**/"
	}
}

// quote doubles q in c, and backslashes when any reading may take them for
// escapes, so the literal ends at the same place in every reading.
func quote(c string, q byte, backslash bool) string {
	if backslash {
		c = strings.ReplaceAll(c, `\`, `\\`)
	}
	return string(q) + strings.ReplaceAll(c, string(q), string(q)+string(q)) + string(q)
}

func (s *speller) caseOf(prefix string) string {
	if s.bit() {
		return strings.ToLower(prefix)
	}
	return prefix
}

func (s *speller) str() string {
	c := s.content()
	if s.reading != 0 && s.choose(2) == 1 {
		// Backslashes as the reading takes them.
		plain := quote(c, '\'', false)
		escaped := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(c) + "'"
		switch {
		case s.mysql && s.reading == 1, !s.mysql && s.reading == 2:
			return escaped
		case s.mysql && s.choose(2) == 1:
			return quote(c, '"', false)
		}
		return plain
	}
	if s.mysql {
		switch s.choose(6) {
		case 1:
			return quote(c, '"', true)
		case 2:
			return s.caseOf("_UTF8MB4") + quote(c, '\'', true)
		case 3:
			return s.caseOf("N") + quote(c, '\'', true)
		case 4:
			return s.caseOf("X") + "'" + fmt.Sprintf("%X", c) + "'"
		case 5:
			return quote(c, '\'', true) + " " + quote(s.content(), '\'', true)
		}
		return quote(c, '\'', true)
	}
	switch s.choose(6) {
	case 1:
		esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(c)
		return s.caseOf("E") + "'" + esc + "'"
	case 2:
		return "$$" + strings.ReplaceAll(c, "$", "") + "$$"
	case 3:
		return "$q_1$" + strings.ReplaceAll(c, "$", "") + "$q_1$"
	case 4:
		return s.caseOf("U") + "&" + quote(c, '\'', true)
	case 5:
		return quote(c, '\'', true) + "\n" + quote(s.content(), '\'', true)
	}
	return quote(c, '\'', true)
}

func (s *speller) id() string {
	c := s.content()
	switch s.choose(3) {
	case 1:
		if c == "" {
			c = "i"
		}
		if s.mysql {
			return quote(c, '`', false)
		}
		return quote(c, '"', false)
	case 2:
		if s.mysql {
			if c == "" {
				c = "i"
			}
			return quote(c, '"', true) // an identifier with ANSI_QUOTES
		}
	}
	var b strings.Builder
	b.WriteString("x_")
	for _, r := range strings.ToLower(c) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' || r == '$' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *speller) num() string {
	return []string{"1", "0", "42", "ON", "TRUE", "1.0"}[s.choose(6)]
}

// stmt renders one template.
func (s *speller) stmt(tmpl string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == ' ':
			b.WriteString(s.gap(false))
		case c == '~':
			b.WriteString(s.gap(true))
		case c == '^':
			b.WriteByte(' ')
		case strings.HasPrefix(tmpl[i:], "/*M!"):
			// The M is case-sensitive: /*m! is a plain comment.
			b.WriteString("/*M!")
			i += 3
		case c == '{':
			j := strings.IndexByte(tmpl[i:], '}')
			switch tmpl[i : i+j+1] {
			case "{id}":
				b.WriteString(s.id())
			case "{str}":
				b.WriteString(s.str())
			case "{num}":
				b.WriteString(s.num())
			default:
				panic("bad template " + tmpl)
			}
			i += j
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if s.bit() {
				c ^= 0x20
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// text renders tmpl among neutral statements.
func (s *speller) text(tmpl string) string {
	neutral := pgNeutral
	if s.mysql {
		neutral = myNeutral
	}
	sep := func() string {
		sep := s.gap(true) + ";" + s.gap(true)
		if s.choose(4) == 3 {
			sep += ";" + s.gap(true)
		}
		return sep
	}
	var b strings.Builder
	b.WriteString(s.gap(true))
	for range s.choose(4) {
		b.WriteString(s.stmt(neutral[s.choose(len(neutral))]))
		b.WriteString(sep())
	}
	b.WriteString(s.stmt(tmpl))
	for range s.choose(3) {
		b.WriteString(sep())
		b.WriteString(s.stmt(neutral[s.choose(len(neutral))]))
	}
	if s.choose(2) == 1 {
		b.WriteString(s.gap(true) + ";")
	}
	b.WriteString(s.gap(true))
	return b.String()
}

func escapesOf(mysql bool) []escape {
	if mysql {
		return myEscapes
	}
	return pgEscapes
}

func addSeeds(f *testing.F) {
	for _, mysql := range []bool{false, true} {
		for i := range escapesOf(mysql) {
			f.Add(mysql, uint16(i), []byte(nil), "")
			f.Add(mysql, uint16(i), []byte{0xff, 7, 3, 9, 200, 11, 1, 12, 5, 8}, "a'b\"c`d\\e*/f\ng$h")
		}
	}
}

func FuzzClassifyNeverMissesAnEscape(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, mysql bool, which uint16, spelling []byte, contents string) {
		// Any text at all: no panic.
		Classify(contents, mysql)
		list := escapesOf(mysql)
		e := list[int(which)%len(list)]
		s := &speller{mysql: mysql, choices: spelling, contents: strings.Split(contents, "|")}
		s.reading = s.choose(3)
		sql := s.text(e.tmpl)
		if got := Classify(sql, mysql); got&e.need == 0 {
			t.Errorf("Classify(%q, mysql=%v) = %07b, missing all of %07b: the text spells %q", sql, mysql, got, e.need, e.tmpl)
		}
	})
}

func FuzzClassifyIgnoresLiteralsAndComments(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, mysql bool, which uint16, spelling []byte, contents string) {
		list := escapesOf(mysql)
		e := list[int(which)%len(list)]
		parts := strings.Split(contents, "|")
		s := &speller{mysql: mysql, choices: spelling, contents: parts}
		sql := s.text(e.tmpl)
		bare := &speller{mysql: mysql, choices: spelling, contents: parts, empty: true}
		want := bare.text(e.tmpl)
		if got, wantFlags := Classify(sql, mysql), Classify(want, mysql); got != wantFlags {
			t.Errorf("Classify(%q, mysql=%v) = %07b, but without the text of its literals and comments, Classify(%q) = %07b", sql, mysql, got, want, wantFlags)
		}
	})
}
