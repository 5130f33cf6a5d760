package testdatabases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Shadow tables (MySQL/MariaDB).
//
// InnoDB never lowers an AUTO_INCREMENT counter on rollback, and lowering
// one on a base table needs DDL, which costs milliseconds and which MariaDB
// runs one at a time. TEMPORARY tables are cheap to create and to TRUNCATE
// (which also resets their counter; about 0.2 ms on MariaDB 10.11), InnoDB
// temporary tables are transactional, and a TEMPORARY table shadows the
// base table of the same name for its session. So when the template allows
// it, each pooled session carries one TEMPORARY copy of every template
// table (with the template's rows and counters), created once per session
// in the background; the test's statements run on the copies; and
// releasing the database is ROLLBACK plus, only for the copies whose
// counter moved, TRUNCATE (or, for a copy that holds seed rows or starts
// from a counter above 1, DROP TEMPORARY + CREATE TEMPORARY + the seed
// rows), all outside any transaction and without data-dictionary DDL.
//
// A copy behaves like its table for everything a session can do with it
// except what tells the two apart: other sessions (they see the base
// table), table introspection (SHOW CREATE TABLE says TEMPORARY,
// information_schema describes the base table), and TEMPORARY tables of
// the same name. Before any of these the session moves the copies' rows
// into the base tables and drops the copies (unshadow, below); txmux calls
// it through Hooks.Unshadow.
//
// Shadowing is used only when copies are exact: every table is an InnoDB
// base table (not partitioned, no FULLTEXT or SPATIAL index), and the
// template has no foreign keys (a copy's constraint would point at the base
// table), no views, routines or triggers (their bodies resolve table names
// by other rules), and no seed row whose AUTO_INCREMENT column is 0 (it
// would get a new value when copied).

// shadowReason explains why the template described by t cannot be
// shadowed, or returns "" when it can. It also records each table's
// AUTO_INCREMENT column.
func (s *mysqlServer) shadowReason(ctx context.Context, c *sql.Conn, t *myTemplate) (string, error) {
	if len(t.views) > 0 {
		return "the template has views", nil
	}
	var n int
	if err := c.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) + (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?)", t.name, t.name).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 || len(t.others) > 0 {
		return "the template has routines or triggers", nil
	}
	var why sql.NullString
	err := c.QueryRowContext(ctx, `SELECT CONCAT('foreign key ', CONSTRAINT_NAME, ' on table ', TABLE_NAME) FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? OR UNIQUE_CONSTRAINT_SCHEMA = ? LIMIT 1`, t.name, t.name).Scan(&why)
	if err != nil && err != sql.ErrNoRows {
		return "", err
	}
	if why.Valid {
		return "the template has a " + why.String, nil
	}
	err = c.QueryRowContext(ctx, `SELECT CONCAT('table ', TABLE_NAME, ' is ', TABLE_TYPE, ' ', COALESCE(ENGINE, ''), ' ', COALESCE(CREATE_OPTIONS, '')) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> ? AND TABLE_TYPE <> 'VIEW'
		AND (TABLE_TYPE <> 'BASE TABLE' OR COALESCE(ENGINE, '') <> 'InnoDB' OR COALESCE(CREATE_OPTIONS, '') LIKE '%partitioned%') LIMIT 1`, t.name, completeTable).Scan(&why)
	if err != nil && err != sql.ErrNoRows {
		return "", err
	}
	if why.Valid {
		return why.String + " (not a plain InnoDB table)", nil
	}
	err = c.QueryRowContext(ctx, `SELECT CONCAT(INDEX_TYPE, ' index ', INDEX_NAME, ' on table ', TABLE_NAME) FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND INDEX_TYPE IN ('FULLTEXT', 'SPATIAL') LIMIT 1`, t.name).Scan(&why)
	if err != nil && err != sql.ErrNoRows {
		return "", err
	}
	if why.Valid {
		return "the template has a " + why.String, nil
	}
	q := myIdent(t.name) + "."
	for i := range t.tables {
		tb := &t.tables[i]
		var col sql.NullString
		err := c.QueryRowContext(ctx, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA LIKE '%auto_increment%'", t.name, tb.name).Scan(&col)
		if err != nil && err != sql.ErrNoRows {
			return "", err
		}
		tb.autoCol = col.String
		if col.Valid && tb.rows {
			var one int
			err := c.QueryRowContext(ctx, "SELECT 1 FROM "+q+myIdent(tb.name)+" WHERE "+myIdent(col.String)+" = 0 LIMIT 1").Scan(&one)
			if err == nil {
				return "table " + tb.name + " has a seed row whose AUTO_INCREMENT column is 0", nil
			}
			if err != sql.ErrNoRows {
				return "", err
			}
		}
	}
	return "", nil
}

// shadowed reports whether new sessions get shadow tables.
func (t *myTemplate) shadowed() bool {
	return t.shadowWhy == "" && len(t.tables) > 0 && !t.noShadow.Load()
}

// shadowCreate returns the statements that create tb's TEMPORARY copy with
// the template's counter and rows.
func (t *myTemplate) shadowCreate(b *strings.Builder, tb *myTable) {
	b.WriteString(";\n")
	b.WriteString(strings.Replace(tb.create, "CREATE TABLE ", "CREATE TEMPORARY TABLE ", 1))
	if tb.rows {
		fmt.Fprintf(b, ";\nINSERT INTO %s (%s) SELECT %s FROM %s.%s", myIdent(tb.name), tb.cols, tb.cols, myIdent(t.name), myIdent(tb.name))
	}
}

// shadowSQL creates every copy (each statement preceded by ";\n").
func (t *myTemplate) shadowSQL() string {
	var b strings.Builder
	for i := range t.tables {
		t.shadowCreate(&b, &t.tables[i])
	}
	return b.String()
}

// shadowStart is the counter a fresh copy of tb starts from: the
// template's, as SHOW CREATE TABLE reports it (1 when it omits it).
func shadowStart(tb *myTable) int64 {
	if tb.autoInc.Int64 > 1 {
		return tb.autoInc.Int64
	}
	return 1
}

// shadowReset appends the statements that give tb's copy its template
// counter again. Rows are the template's already (the test's were rolled
// back; the seed rows were committed when the copy was made).
func (t *myTemplate) shadowReset(b *strings.Builder, tb *myTable) {
	if !tb.rows && shadowStart(tb) == 1 {
		// TRUNCATE of a TEMPORARY table resets its counter to 1, cheaply.
		fmt.Fprintf(b, ";\nTRUNCATE TABLE %s", myIdent(tb.name))
		return
	}
	fmt.Fprintf(b, ";\nDROP TEMPORARY TABLE %s", myIdent(tb.name))
	t.shadowCreate(b, tb)
}

// showCounters returns the AUTO_INCREMENT counters of the tables named in
// tbs, as this session sees them (its TEMPORARY copies while shadowed),
// after running pre (statements without result sets, may be empty) in the
// same round trip. information_schema does not list TEMPORARY tables on
// MariaDB 10.11 (nor on MySQL 8), so this reads SHOW CREATE TABLE.
func showCounters(ctx context.Context, phys driver.Conn, pre string, tbs []*myTable) (map[string]int64, error) {
	var b strings.Builder
	b.WriteString(pre)
	for _, tb := range tbs {
		if b.Len() > 0 {
			b.WriteString(";\n")
		}
		b.WriteString("SHOW CREATE TABLE " + myIdent(tb.name))
	}
	out := make(map[string]int64, len(tbs))
	if len(tbs) == 0 && pre == "" {
		return out, nil
	}
	rows, err := phys.(driver.QueryerContext).QueryContext(ctx, b.String(), nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	nrs, _ := rows.(driver.RowsNextResultSet)
	for {
		if cols := rows.Columns(); len(cols) == 2 {
			vals := make([]driver.Value, 2)
			for {
				err := rows.Next(vals)
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, err
				}
				name, _ := asString(vals[0])
				def, _ := asString(vals[1])
				out[name] = counterOf(def)
			}
		}
		if nrs == nil || !nrs.HasNextResultSet() {
			break
		}
		if err := nrs.NextResultSet(); err != nil {
			if err == io.EOF {
				break
			}
			return nil, err
		}
	}
	if len(out) != len(tbs) {
		return nil, fmt.Errorf("SHOW CREATE TABLE returned %d of %d tables", len(out), len(tbs))
	}
	return out, nil
}

// counterOf reads the AUTO_INCREMENT=N table option of a CREATE TABLE
// statement as SHOW CREATE TABLE prints it (absent means 1).
func counterOf(def string) int64 {
	tail := def
	if i := strings.LastIndex(def, "\n)"); i >= 0 {
		tail = def[i:]
	}
	i := strings.Index(tail, " AUTO_INCREMENT=")
	if i < 0 {
		return 1
	}
	tail = tail[i+len(" AUTO_INCREMENT="):]
	j := 0
	for j < len(tail) && tail[j] >= '0' && tail[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(tail[:j], 10, 64)
	if err != nil {
		return 1
	}
	return n
}

func (t *myTemplate) autoIncTables() []*myTable {
	var out []*myTable
	for i := range t.tables {
		if t.tables[i].autoInc.Valid {
			out = append(out, &t.tables[i])
		}
	}
	return out
}

// recycleShadowed returns a shadowed session to the template's state: one
// round trip when the test named no AUTO_INCREMENT table, else two (roll
// back and read the named copies' counters; reset those that moved and
// begin the next outer transaction). Measured on MariaDB 10.11 with
// BenchmarkIsolatedDatabase: resetting the named copies unconditionally in
// one round trip was no faster (0.29-0.91 ms/op against 0.36-0.62 ms/op,
// within the machine's noise) and would re-copy seed rows of tables a test
// only read; resetting every copy unconditionally cost 0.91-1.15 ms/op.
func (s *mysqlServer) recycleShadowed(ctx context.Context, sl *slot, mentioned []bool) error {
	tp := sl.t.(*myTemplate)
	ex := sl.phys.(driver.ExecerContext)
	const pre = "ROLLBACK; DO RELEASE_ALL_LOCKS()"
	var auto []*myTable
	for i, tb := range tp.autoIncTables() {
		// A table whose name (with backticks doubled: unknown spelling)
		// the test never wrote kept its counter.
		if i < len(mentioned) && mentioned[i] || strings.Contains(tb.name, "`") {
			auto = append(auto, tb)
		}
	}
	if len(auto) == 0 {
		_, err := ex.ExecContext(ctx, pre+"; START TRANSACTION", nil)
		return err
	}
	now, err := showCounters(ctx, sl.phys, pre, auto)
	if err != nil {
		return fmt.Errorf("reading the counters of %s's temporary tables: %w", sl.name, err)
	}
	var b strings.Builder
	for _, tb := range auto {
		if now[tb.name] != shadowStart(tb) {
			tp.shadowReset(&b, tb)
		}
	}
	b.WriteString(";\nSTART TRANSACTION")
	if _, err := ex.ExecContext(ctx, b.String()[2:], nil); err != nil {
		return fmt.Errorf("resetting the temporary tables of %s: %w", sl.name, err)
	}
	return nil
}

// unshadow moves the rows of the session's copies into the base tables
// and drops the copies, inside the outer transaction. The base tables
// still hold the template's rows and counters (nothing else can write
// them: other sessions only connect after this ran). Rows copied with
// explicit ids raise a base counter to the highest id + 1; a copy's
// counter can be higher still (rows deleted, failed inserts), and only DDL
// can set that, so then the outer transaction is committed first
// (committed = true). Without keepTx it is committed in any case.
func (s *mysqlServer) unshadow(ctx context.Context, tp *myTemplate, phys driver.Conn, keepTx bool) (committed bool, err error) {
	want, err := showCounters(ctx, phys, "", tp.autoIncTables())
	if err != nil {
		return false, err
	}
	const tmp = "`greenroom_unshadow`"
	var b strings.Builder
	for _, tb := range tp.tables {
		n := myIdent(tb.name)
		fmt.Fprintf(&b, ";\nCREATE TEMPORARY TABLE %s LIKE %s", tmp, n)
		fmt.Fprintf(&b, ";\nINSERT INTO %s (%s) SELECT %s FROM %s", tmp, tb.cols, tb.cols, n)
		fmt.Fprintf(&b, ";\nDROP TEMPORARY TABLE %s", n)
		fmt.Fprintf(&b, ";\nDELETE FROM %s", n)
		fmt.Fprintf(&b, ";\nINSERT INTO %s (%s) SELECT %s FROM %s", n, tb.cols, tb.cols, tmp)
		fmt.Fprintf(&b, ";\nDROP TEMPORARY TABLE %s", tmp)
	}
	ex := phys.(driver.ExecerContext)
	if b.Len() > 0 {
		if _, err := ex.ExecContext(ctx, b.String()[2:], nil); err != nil {
			return false, err
		}
	}
	got, err := showCounters(ctx, phys, "", tp.autoIncTables())
	if err != nil {
		return false, err
	}
	var alter strings.Builder
	for _, tb := range tp.autoIncTables() {
		if got[tb.name] != want[tb.name] {
			fmt.Fprintf(&alter, ";\nALTER TABLE %s AUTO_INCREMENT = %d", myIdent(tb.name), want[tb.name])
		}
	}
	if keepTx && alter.Len() == 0 {
		return false, nil
	}
	if _, err := ex.ExecContext(ctx, "COMMIT"+alter.String(), nil); err != nil {
		return true, err
	}
	return true, nil
}
