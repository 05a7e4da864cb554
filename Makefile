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
LDLIBS		:= -lxdp -lbpf -lelf -lz -lm

ifeq ($(V),1)
Q		:=
msg		:=
else
Q		:= @
msg		= @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean check demo bench bench-micro setup soak

# The data path in bpf/, the benchmark tools' programs in bpf/tools/, the
# test-only programs in selftests/bpf/; all build flat into $(BUILD).
BPF_DIRS	:= bpf bpf/tools selftests/bpf
BPF_SRCS	:= $(foreach d,$(BPF_DIRS),$(wildcard $(d)/*.bpf.c))
BPF_OBJS	:= $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS		:= $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))

# user/lib: shared by every binary; user/cli: xvr, one file per object;
# user/engine: xvr-router; user/tools: xvr-pktgen, xvr-sink, xvr-pfpacket.
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

all: $(PLUGINS)

$(BUILD)/xvr-router: $(ENGINE_OBJS) $(BUILD)/libxvr.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -ldl

# A plugin is self-contained: it includes include/xvr/plugin.h and links nothing of xvr's.
$(BUILD)/plugins/%.so: plugins/%.c
	$(call msg,CC-SO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -fPIC -shared -MMD -MP $< -o $@
# ---- end xvr-router ----

$(BUILD)/test_progs: $(TEST_OBJS) $(BUILD)/libxvr.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

setup:
	$(Q)scripts/setup.sh

check: all
	$(Q)selftests/run.sh

demo: setup all
	$(Q)scripts/demo.sh

bench: all
	$(Q)scripts/bench.sh

# Long robustness runs, not part of check.
soak: all
	$(Q)CONC_SECONDS=$${CONC_SECONDS:-300} bash selftests/e2e/test_concurrency.sh

bench-micro: all
	$(Q)scripts/bench.sh micro

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d $(BUILD)/*/*/*/*.d)
