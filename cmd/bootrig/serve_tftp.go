package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"
)

// tftpFlags are serve's TFTP flags.
func tftpFlags() []cli.Flag { return nil }

// startTFTP starts the TFTP server from serve's flags; stop shuts it down.
func startTFTP(ctx context.Context, c *cli.Context, s *serveEnv) (stop func(context.Context) error, err error) {
	return nil, errors.New("TFTP server: not implemented yet")
}
