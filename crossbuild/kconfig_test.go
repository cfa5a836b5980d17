package crossbuild

import (
	"errors"
	"strings"
	"testing"
)

func TestMergeConfig(t *testing.T) {
	base := "#\n# Automatically generated\n#\nCONFIG_A=y\n# CONFIG_STATIC is not set\nCONFIG_B=\"x\"\nCONFIG_C=m\n"
	frag := "# comment kept out\nCONFIG_STATIC=y\n# CONFIG_A is not set\nCONFIG_NEW=0x10\nCONFIG_STATIC=n_was_typo\nCONFIG_STATIC=y\n"
	got, err := mergeConfig([]byte(base), []byte(frag), "frag")
	if err != nil {
		t.Fatal(err)
	}
	want := "#\n# Automatically generated\n#\nCONFIG_B=\"x\"\nCONFIG_C=m\nCONFIG_STATIC=y\n# CONFIG_A is not set\nCONFIG_NEW=0x10\n"
	if string(got) != want {
		t.Errorf("merged:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CONFIG_A=y\nFOO=y\n", "frag:2:"},
		{"CONFIG_A\n", "frag:1:"},
		{"CONFIG_A=\n", "frag:1:"},
		{"CONFIG A=y\n", "frag:1:"},
	} {
		_, err := parseConfig([]byte(tc.in), "frag")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%q) = %v, want error with %q", tc.in, err, tc.want)
		}
	}
	if _, err := mergeConfig(nil, []byte("bogus\n"), "qemu-arm.yaml kernel.fragment"); err == nil || !strings.Contains(err.Error(), "qemu-arm.yaml kernel.fragment:1") {
		t.Errorf("mergeConfig with a bad fragment = %v, want the fragment's name and line", err)
	}
}

func TestCheckConfig(t *testing.T) {
	frag := "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_D=y\nCONFIG_E=\"s\"\n# CONFIG_F is not set\n"
	config := "CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_E=\"s\"\n"
	bad, err := checkConfig([]byte(config), []byte(frag), "frag")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range bad {
		got = append(got, u.Want.Name+":"+u.Got)
	}
	want := "CONFIG_B:y CONFIG_C:n CONFIG_D:n"
	if strings.Join(got, " ") != want {
		t.Errorf("unstuck = %v, want %s", got, want)
	}
	err = unstuckError("frag", ".config", bad)
	if !errors.Is(err, ErrFragment) || !strings.Contains(err.Error(), "CONFIG_D (fragment line 4 wants y, .config has n)") {
		t.Errorf("error = %v", err)
	}
	if unstuckError("frag", ".config", nil) != nil {
		t.Error("no unstuck values must be no error")
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("CONFIG_A=y\n# CONFIG_B is not set\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := parseConfig(b, "fuzz")
		if err != nil {
			return
		}
		var out strings.Builder
		for _, s := range ss {
			out.WriteString(s.String() + "\n")
		}
		again, err := parseConfig([]byte(out.String()), "again")
		if err != nil || len(again) != len(ss) {
			t.Fatalf("reparse of %q: %v, %d settings, want %d", out.String(), err, len(again), len(ss))
		}
	})
}
