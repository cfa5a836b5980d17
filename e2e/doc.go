// Package e2e holds end-to-end tests of the bootrig command: they build
// it and bring the emulated board up with it, as a user would.
package e2e
