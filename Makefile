# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xvr: out-of-tree build into build/, quiet unless V=1.

BUILD		?= build
CLANG		?= clang
BPFTOOL		?= bpftool
CC		?= gcc
ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH	:= $(shell $(CC) -print-multiarch 2>/dev/null)

BPF_CFLAGS	:= -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
		   -Wall -Werror -I. -Ibpf -Iinclude
CFLAGS		?= -O2 -g
CFLAGS		+= -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation -Werror -std=gnu11 \
		   -D_GNU_SOURCE -Iinclude -Iuser/lib -I$(BUILD)
LDLIBS		:= -lxdp -lbpf -lmnl -lelf -lz -lm

ifeq ($(V),1)
Q		:=
msg		:=
else
Q		:= @
msg		= @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean check demo demo-vnet bench bench-micro bench-links setup FORCE install uninstall soak \
	fuzz soak-churn

# The data path in bpf/, the benchmark tools' programs in bpf/tools/, the
# test-only programs in selftests/bpf/; all build flat into $(BUILD).
BPF_DIRS	:= bpf bpf/tools selftests/bpf selftests/fuzz
BPF_SRCS	:= $(foreach d,$(BPF_DIRS),$(wildcard $(d)/*.bpf.c))
BPF_OBJS	:= $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS		:= $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))

# user/lib: shared by every binary; user/cli: xvr, one file per object;
# user/engine: xvr-router; user/tools: xvr-pktgen, xvr-sink, xvr-pfpacket,
# xvr-pfmmap.
LIB_SRCS	:= $(wildcard user/lib/*.c)
LIB_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
XVR_SRCS	:= $(wildcard user/cli/*.c)
XVR_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(XVR_SRCS))
TOOL_SRCS	:= $(wildcard user/tools/*.c)
TOOLS		:= $(patsubst user/tools/%.c,$(BUILD)/xvr-%,$(TOOL_SRCS)) $(BUILD)/xvr-router
TEST_SRCS	:= $(wildcard selftests/*.c)
TEST_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRCS))

all: $(BUILD)/xvr $(TOOLS) $(BUILD)/test_progs $(BPF_OBJS)

define bpf_rule
$$(BUILD)/%.tmp.bpf.o: $(1)/%.bpf.c
	$$(call msg,BPF,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CLANG) $$(BPF_CFLAGS) -MMD -MP -c $$< -o $$@
endef
$(foreach d,$(BPF_DIRS),$(eval $(call bpf_rule,$(d))))

$(BUILD)/%.bpf.o: $(BUILD)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# Every user-space object may include any skeleton; generate them first.
$(BUILD)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# xvr's version: 'git describe' of a tagged checkout, else the VERSION file
# plus the commit (-gHASH[-dirty]) when there is one, else VERSION alone (a
# release tarball). version.h is rewritten only when the version changes.
VERSION_BASE	:= $(shell cat VERSION 2>/dev/null || echo 0)
VERSION_TAG	:= $(shell git describe --tags --dirty 2>/dev/null)
VERSION_HASH	:= $(shell git describe --always --dirty 2>/dev/null)
XVR_VERSION	:= $(or $(VERSION_TAG),$(if $(VERSION_HASH),$(VERSION_BASE)-g$(VERSION_HASH),$(VERSION_BASE)))

$(BUILD)/version.h: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '#define XVR_VERSION "$(XVR_VERSION)"' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/user/cli/version.o $(BUILD)/user/cli/metrics.o: $(BUILD)/version.h

FORCE:

$(BUILD)/libxvr.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/xvr: $(XVR_OBJS) $(BUILD)/libxvr.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/xvr-%: $(BUILD)/user/tools/%.o $(BUILD)/libxvr.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# ---- xvr-router (AF_XDP engine): user/engine/; plugins ----
ENGINE_SRCS	:= $(wildcard user/engine/*.c)
ENGINE_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(ENGINE_SRCS))
PLUGIN_SRCS	:= $(wildcard plugins/*.c)
PLUGINS		:= $(patsubst plugins/%.c,$(BUILD)/plugins/%.so,$(PLUGIN_SRCS))
# Test plugins (test_sandbox's attacker): built with the rest, never installed.
TEST_PLUGIN_SRCS := $(wildcard selftests/plugins/*.c)
PLUGINS		+= $(patsubst selftests/plugins/%.c,$(BUILD)/selftests/plugins/%.so,$(TEST_PLUGIN_SRCS))

all: $(PLUGINS)

$(BUILD)/xvr-router: $(ENGINE_OBJS) $(BUILD)/libxvr.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -ldl

# A plugin is self-contained: it includes include/xvr/plugin.h and links nothing of xvr's.
$(BUILD)/plugins/%.so: plugins/%.c
	$(call msg,CC-SO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -MMD -MP $< -o $@
$(BUILD)/selftests/plugins/%.so: selftests/plugins/%.c
	$(call msg,CC-SO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -MMD -MP $< -o $@
# ---- end xvr-router ----

$(BUILD)/test_progs: $(TEST_OBJS) $(BUILD)/libxvr.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# ---- fuzzers (selftests/fuzz/): the parser and classifier built for the host
# under libFuzzer, and the BPF programs under a mutation fuzzer ----
FUZZ_CC		?= clang-14
FUZZ_CFLAGS	:= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		   -fno-sanitize=alignment -Wall -Werror -Iinclude -Ibpf -Iselftests/fuzz
FUZZ_SECS	?= 600

all: $(BUILD)/fuzz/fuzz_parse $(BUILD)/fuzz/fuzz_progs

# XDP headers sit at any offset and BPF loads them unaligned: no alignment checks.
$(BUILD)/fuzz/fuzz_parse: selftests/fuzz/fuzz_parse.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP $< -o $@

$(BUILD)/fuzz/fuzz_progs: $(BUILD)/selftests/fuzz/fuzz_progs.o $(BUILD)/selftests/fuzz/mutate.o \
			  $(BUILD)/libxvr.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)
# ---- end fuzzers ----

# ---- make install [PREFIX=/usr/local] [DESTDIR=] ----
# xvr and xvr-router carry their BPF programs in their skeletons and need no
# object files; xvr finds xvr-router in its own directory. The ingress
# object goes to LIBDIR/xvr/bpf for xdp-loader and 'ip link … xdp obj'.
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR		?= $(LIBDIR)/systemd/system
COMPLETIONDIR	?= $(PREFIX)/share/bash-completion/completions
INSTALL		?= install

# What install puts where, as "SOURCE DIR MODE" (uninstall removes the same).
INSTALL_FILES	= $(BUILD)/xvr:$(SBINDIR):755 $(BUILD)/xvr-router:$(SBINDIR):755 \
		  $(BUILD)/xvr_ingress.bpf.o:$(LIBDIR)/xvr/bpf:644 \
		  $(foreach p,$(PLUGINS),$(p):$(LIBDIR)/xvr/plugins:755) \
		  include/xvr/plugin.h:$(INCLUDEDIR)/xvr:644 \
		  docs/man/xvr.8:$(MANDIR)/man8:644 docs/man/xvr-router.8:$(MANDIR)/man8:644 \
		  docs/man/xvr-plugin.7:$(MANDIR)/man7:644 \
		  docs/completion/xvr:$(COMPLETIONDIR):644

install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(foreach f,$(INSTALL_FILES),$(INSTALL) -D -m $(word 3,$(subst :, ,$(f))) \
		$(word 1,$(subst :, ,$(f))) \
		$(DESTDIR)$(word 2,$(subst :, ,$(f)))/$(notdir $(word 1,$(subst :, ,$(f)))) &&) true
	$(Q)$(INSTALL) -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/xvr
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		scripts/systemd/xvr-node@.service.in > $(DESTDIR)$(UNITDIR)/xvr-node@.service
	$(Q)chmod 644 $(DESTDIR)$(UNITDIR)/xvr-node@.service

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(foreach f,$(INSTALL_FILES),$(DESTDIR)$(word 2,$(subst :, ,$(f)))/$(notdir $(word 1,$(subst :, ,$(f))))) \
		$(DESTDIR)$(UNITDIR)/xvr-node@.service
	$(Q)rmdir $(DESTDIR)$(LIBDIR)/xvr/bpf $(DESTDIR)$(LIBDIR)/xvr/plugins $(DESTDIR)$(LIBDIR)/xvr \
		$(DESTDIR)$(INCLUDEDIR)/xvr $(DESTDIR)$(SYSCONFDIR)/xvr 2>/dev/null || true

setup:
	$(Q)scripts/setup.sh

check: all
	$(Q)selftests/run.sh

demo: setup all
	$(Q)scripts/demo.sh

demo-vnet: setup all
	$(Q)scripts/demo-vnet.sh

bench: all
	$(Q)scripts/bench.sh

# Long robustness runs, not part of check: concurrent commands for five
# minutes, a tenant's flood against fibsync's max-routes (2M routes), and
# 1,000 route changes a second under half load (SOAK_SECS, default 600).
soak: all
	$(Q)CONC_SECONDS=$${CONC_SECONDS:-300} bash selftests/e2e/test_concurrency.sh
	$(Q)COUNT=2000000 CAP=200000 bash selftests/e2e/test_fibsync_cap.sh
	$(Q)bash scripts/soak-churn.sh

soak-churn: all
	$(Q)bash scripts/soak-churn.sh

# Both fuzzers side by side for FUZZ_SECS (default 600) each.
fuzz: all
	$(Q)FUZZ_SECS=$(FUZZ_SECS) selftests/fuzz/run.sh

bench-micro: all
	$(Q)scripts/bench.sh micro

# Virtual links: encapsulation and decapsulation against plain forwarding
# (per-packet cost), then throughput of p2p and multipoint links beside
# Linux forwarding, plain xdp and a namespace router behind bridge + VXLAN
# in interleaved rounds (results in $(BUILD)/bench-links/), then
# convergence of a 4-node OSPF network over links; all three into
# bench/results/links.json and the "Virtual links" section of BENCHMARKS.md.
bench-links: all
	$(Q)scripts/bench/links.sh $(BUILD)/bench-links.json
	$(Q)POINTS="kernel xvr-2 link-p2p link-mp bridge-vxlan" QUICK=$${QUICK:-1} MICRO=0 REPORT=0 \
		OUT=$(BUILD)/bench-links scripts/bench.sh
	$(Q)scripts/bench/links-converge.sh $(BUILD)/links-converge.json
	$(Q)scripts/bench/links-report.py $(BUILD)/bench-links.json $(BUILD)/bench-links/results.json \
		$(BUILD)/links-converge.json

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d $(BUILD)/*/*/*/*.d)
