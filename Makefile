# Front door for the NVMe device model overlay on QEMU 10.0.
# Everything real lives in scripts/; see README.rst.

SHELL := /bin/bash
SCRIPTS := $(CURDIR)/scripts

.PHONY: all build guest run check check-qtest check-functional bench patch \
        deps clean distclean

all: build

deps:
	@$(SCRIPTS)/deps.sh

build:
	@$(SCRIPTS)/build-qemu.sh

guest:
	@$(SCRIPTS)/guest-image.sh

# make run [QEMU_ARGS='...']: boot the default guest on our controller.
run: build guest
	@$(SCRIPTS)/run.sh $(QEMU_ARGS)

check: build guest
	@$(SCRIPTS)/check.sh

check-qtest: build
	@$(SCRIPTS)/check.sh --qtest-only

check-functional: build guest
	@$(SCRIPTS)/check.sh --functional-only

bench: build guest
	@$(SCRIPTS)/bench.sh

patch:
	@$(SCRIPTS)/make-patch.sh

clean:
	rm -rf build/qemu-build build/guest

distclean:
	rm -rf build
