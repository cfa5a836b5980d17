package crossbuild

import (
	"regexp"
	"strings"
	"testing"
)

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func TestMuslPlan(t *testing.T) {
	m := muslPlan{Src: "/s/musl-1.2.3", Build: "/c/b/musl-build", Dest: "/c/b/sysroot", Target: "arm-linux-gnueabi",
		Prefix: "arm-linux-gnueabi-", Flags: []string{"-march=armv4t", "-marm", "-mfloat-abi=soft"}, Jobs: 2}
	for _, tc := range []struct {
		step step
		want string
	}{
		{m.Configure(), "/s/musl-1.2.3/configure --target=arm-linux-gnueabi CROSS_COMPILE=arm-linux-gnueabi- CC=arm-linux-gnueabi-gcc " +
			"CFLAGS=-march=armv4t -marm -mfloat-abi=soft --prefix=/ --disable-shared"},
		{m.Compile(), "make -j2"},
		{m.Install(), "make install DESTDIR=/c/b/sysroot"},
		{headersStep("/s/linux", "/c/b/musl-build/linux-headers", "arm", "/c/b/sysroot"),
			"make -C /s/linux O=/c/b/musl-build/linux-headers ARCH=arm CROSS_COMPILE= headers_install INSTALL_HDR_PATH=/c/b/sysroot"},
	} {
		if got := strings.Join(tc.step.Args, " "); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.step.Phase, got, tc.want)
		}
	}
	if m.Configure().Dir != m.Build || m.Install().Dir != m.Build {
		t.Error("musl steps do not run in the build directory (out of tree)")
	}
}

func TestSpecs(t *testing.T) {
	s := specs("/c/sysroot", "/usr/lib/gcc/arm-none-eabi/12.2.1/libgcc.a")
	for _, want := range []string{
		"*cpp_options:\n-nostdinc -isystem /c/sysroot/include -isystem include%s %(old_cpp_options)\n",
		"*libgcc:\n/usr/lib/gcc/arm-none-eabi/12.2.1/libgcc.a\n",
		"*startfile:\n/c/sysroot/lib/crt1.o /c/sysroot/lib/crti.o\n",
		"*endfile:\n/c/sysroot/lib/crtn.o\n",
		"*link:\n-nostdlib -static ",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("specs lack %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "crtbegin") || strings.Contains(s, "dynamic-linker") {
		t.Errorf("specs pull in the toolchain's start files or a dynamic linker:\n%s", s)
	}
	sys := sysroot{Dir: "/c/sysroot", Flags: []string{"-march=armv4t"}}
	if got := strings.Join(sys.CFlags(), " "); got != "-march=armv4t -specs=/c/sysroot/bootrig-gcc.specs -static -no-pie -fno-pie" {
		t.Errorf("CFlags = %s", got)
	}
}
