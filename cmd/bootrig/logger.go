package main

import (
	"io"
	"log/slog"

	"github.com/urfave/cli/v2"
)

// logger is the command's logger: debug level with --verbose.
func logger(c *cli.Context) *slog.Logger {
	return newLogger(c.App.ErrWriter, c.Bool("verbose"))
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
