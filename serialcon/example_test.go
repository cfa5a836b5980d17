package serialcon_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"time"

	"github.com/bootrig/bootrig/serialcon"
)

// A session over any port: here one end of a pipe stands for the board.
// Real code opens the port with serialcon.Open(ctx, "/dev/ttyUSB0").
func ExampleSession() {
	port, board := net.Pipe()
	go board.Write([]byte("\nU-Boot 2023.01\nHit any key to stop autoboot:  2"))

	phases := serialcon.NewPhases(time.Now(), nil)
	s := serialcon.NewSession(port, serialcon.Options{Name: "pipe", Phases: phases, Raw: os.Stdout})
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := s.Expect(ctx, regexp.MustCompile(`autoboot: +(\d)`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("\ncountdown from %s; reached %s\n", m.Groups[1], phases.Summary(time.Now()).Last())
	// Output:
	// U-Boot 2023.01
	// Hit any key to stop autoboot:  2
	// countdown from 2; reached autoboot
}
