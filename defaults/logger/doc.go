// Package logger is the production implementation of the core.rootLogger
// and core.logger services, over log/slog.
//
// [RootFactory] builds the root logger from configuration:
//
//	backend:
//	  logging:
//	    level: info   # debug | info | warn | error (default info)
//	    format: text  # text | json (default text)
//
// Text is the default because it reads well in a terminal during
// development; production deployments that ship logs set format: json. Logs
// go to os.Stderr unless [Writer] names another destination.
//
// [Factory] gives each plugin the root logger with the attribute
// plugin=<pluginId>. [New] adapts any slog.Handler, which is how fakes and
// tests capture records.
package logger
