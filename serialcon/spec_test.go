package serialcon

import "testing"

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // Spec.String, "" for an error
	}{
		{"/dev/ttyUSB0", "/dev/ttyUSB0,115200,8N1"},
		{"/dev/ttySAC0,57600", "/dev/ttySAC0,57600,8N1"},
		{"/dev/ttyS1,9600,7e2", "/dev/ttyS1,9600,7E2"},
		{"tcp://127.0.0.1:5555", "tcp://127.0.0.1:5555,115200,8N1"},
		{"rfc2217://farm:7001,38400", "rfc2217://farm:7001,38400,8N1"},
		{"telnet://farm:7001", "rfc2217://farm:7001,115200,8N1"},
		{"unix:/tmp/qemu.sock", "unix:/tmp/qemu.sock,115200,8N1"},
		{"unix:///tmp/qemu.sock", "unix:/tmp/qemu.sock,115200,8N1"},
		{"unix://qemu.sock", "unix:qemu.sock,115200,8N1"},
		{"unix:////", "unix:////,115200,8N1"}, // found by FuzzParseSpec
		{"unix:////run/x", "unix:////run/x,115200,8N1"},
		{"", ""},
		{"tcp://nohost", ""},
		{"http://x:1", ""},
		{"/dev/ttyUSB0,fast", ""},
		{"/dev/ttyUSB0,115200,9N1", ""},
		{"/dev/ttyUSB0,115200,8X1", ""},
		{"/dev/ttyUSB0,115200,8N1,x", ""},
		{"unix:", ""},
	} {
		sp, err := ParseSpec(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseSpec(%q) = %v, want an error", tc.in, sp)
		case tc.want != "" && err != nil:
			t.Errorf("ParseSpec(%q): %v", tc.in, err)
		case tc.want != "" && sp.String() != tc.want:
			t.Errorf("ParseSpec(%q) = %s, want %s", tc.in, sp, tc.want)
		}
	}
}
