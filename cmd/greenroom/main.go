package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand. run parses its own flags from args.
type command struct {
	name    string
	short   string // one line for the command list
	usage   string // the synopsis after "greenroom <name>"
	summary string // the help text
	flags   func(fs *flag.FlagSet) func(stdout, stderr io.Writer) error
}

// commands lists the subcommands in the order help shows them.
var commands = []command{keygenCommand, tokenCommand, jwksCommand}

// usageError is an error in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run runs the command line args (without the program name) and returns
// the exit status: 0 on success, 1 when the command failed, 2 for a bad
// command line.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			printUsage(stdout)
			return 0
		}
		c, ok := lookup(rest[0])
		if !ok {
			fmt.Fprintf(stderr, "greenroom help: unknown command %q\n", rest[0])
			printUsage(stderr)
			return 2
		}
		fs, _ := c.flagSet(stdout)
		fs.Usage()
		return 0
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "greenroom: unknown command %q\n", name)
		printUsage(stderr)
		return 2
	}
	fs, exec := c.flagSet(stderr)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has printed the error and the usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "greenroom %s: unexpected arguments: %s\n", c.name, strings.Join(fs.Args(), " "))
		fs.Usage()
		return 2
	}
	if err := exec(stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "greenroom %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Run 'greenroom help %s' for usage.\n", c.name)
			return 2
		}
		return 1
	}
	return 0
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// flagSet returns the command's flag set, writing errors and usage to out,
// and the function that runs the command once the flags are parsed.
func (c command) flagSet(out io.Writer) (*flag.FlagSet, func(stdout, stderr io.Writer) error) {
	fs := flag.NewFlagSet("greenroom "+c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	exec := c.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: greenroom %s %s\n\n%s\n\nFlags:\n", c.name, c.usage, c.summary)
		fs.PrintDefaults()
	}
	return fs, exec
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, "Greenroom is the command-line tool of Greenroom backends.\n\nusage: greenroom <command> [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, "\nRun 'greenroom help <command>' for the flags of a command.\n")
}
