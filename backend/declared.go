package backend

import (
	"path/filepath"
	"runtime"
	"strconv"
)

// callerPC returns the program counter of the caller of the function that
// calls callerPC: the code that declares a plugin, module or factory.
// Only the counter is kept, because a declaration runs often in tests and
// its position is needed only to report a problem.
func callerPC() uintptr {
	var pcs [1]uintptr
	// Skip runtime.Callers, callerPC and the constructor.
	if runtime.Callers(3, pcs[:]) == 0 {
		return 0
	}
	return pcs[0]
}

// position formats the source position of pc as "dir/file.go:line", the
// file with its directory, as in "todo/plugin.go:42"; "" when pc is 0 or
// unknown.
func position(pc uintptr) string {
	if pc == 0 {
		return ""
	}
	frame, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	if frame.File == "" {
		return ""
	}
	dir, file := filepath.Split(frame.File)
	return filepath.ToSlash(filepath.Join(filepath.Base(dir), file)) + ":" + strconv.Itoa(frame.Line)
}

// declaredAt returns " (declared at <position>)", to follow the name of a
// plugin, module or factory in a message, or "" when the position is not
// known.
func declaredAt(pos string) string {
	if pos == "" {
		return ""
	}
	return " (declared at " + pos + ")"
}
