package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"
)

// nfsFlags are serve's NFS and portmapper flags.
func nfsFlags() []cli.Flag { return nil }

// startNFS starts the NFS server (and portmapper) from serve's flags;
// stop shuts it down.
func startNFS(ctx context.Context, c *cli.Context, s *serveEnv) (stop func(context.Context) error, err error) {
	return nil, errors.New("NFS server: not implemented yet")
}
