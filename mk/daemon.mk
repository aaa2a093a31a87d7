# athttpd, the daemon (daemon/*.c): built by `make all`, installed with
# its man page (section 8) by `make install`.  Read by the Makefile's
# include of mk/*.mk.

SBINDIR    ?= $(PREFIX)/sbin
DAEMON     := $(BUILD)/bin/athttpd
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
$(DAEMON_OBJ): ALL_CFLAGS += -Idaemon

all: $(DAEMON)

$(DAEMON): $(DAEMON_OBJ) $(INTERNAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(INTERNAL_A) $(ENGINE_LIBS)

INSTALL_HOOKS   += install-daemon
UNINSTALL_HOOKS += uninstall-daemon
.PHONY: install-daemon uninstall-daemon

install-daemon: $(DAEMON)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(DAEMON) $(DESTDIR)$(SBINDIR)/athttpd
	install -m 644 man/athttpd.8 $(DESTDIR)$(MANDIR)/man8/

uninstall-daemon:
	rm -f $(DESTDIR)$(SBINDIR)/athttpd $(DESTDIR)$(MANDIR)/man8/athttpd.8
