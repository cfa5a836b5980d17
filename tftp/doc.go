// Package tftp is a read-mostly TFTP server, confined to one root
// directory, that hands U-Boot its kernel, device tree and boot scripts.
// It is shaped like net/http: a Server with Serve and Shutdown.
package tftp
