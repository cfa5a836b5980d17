# bootrig: `make demo` boots the emulated board; `make test` runs every test.
# Both install what they need first (bootrig doctor --install: apt-get, as
# root or through sudo) and need no terminal.

GO      ?= go
export PATH := /usr/local/go/bin:$(PATH)
BOARD   ?= qemu-arm
BOOTRIG := bin/bootrig

.PHONY: all build setup test lint unit demo bench clean FORCE

all: build

build: $(BOOTRIG)

$(BOOTRIG): FORCE
	$(GO) build -o $@ ./cmd/bootrig

# setup installs the host tools the board and the tests need.
setup: $(BOOTRIG)
	$(BOOTRIG) doctor --board $(BOARD) --tests --install

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# test runs everything, the end-to-end tests on the emulated board too.
test: setup lint
	$(GO) test -race -timeout 80m ./...

# unit runs the fast tests only.
unit: lint
	$(GO) test -short ./...

demo: setup
	$(BOOTRIG) up --board $(BOARD) --run 'cat /proc/cmdline; uname -a; ls /'

bench: $(BOOTRIG)
	$(BOOTRIG) doctor --board $(BOARD) --tests --bench --install
	$(GO) test -run '^$$' -bench . ./...

clean:
	rm -rf bin
