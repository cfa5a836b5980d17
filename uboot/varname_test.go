package uboot

import "testing"

func TestIsVarName(t *testing.T) {
	for name, want := range map[string]bool{
		"bootcmd": true, "_x": true, "fdt_addr_r": true, "eth1addr": true, "a.b-c": true,
		"": false, "1abc": false, "-x": false, "boot cmd": false, "x=y": false, "$x": false,
	} {
		if got := IsVarName(name); got != want {
			t.Errorf("IsVarName(%q) = %v, want %v", name, got, want)
		}
	}
}
