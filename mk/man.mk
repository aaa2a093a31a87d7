# Man pages (mdoc) and bash completion: installed by `make install`,
# removed by `make uninstall`.  Read by the Makefile's include of mk/*.mk.

MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MAN_PAGES  := man/athttp.1 man/athttp-emu.1

INSTALL_HOOKS   += install-man install-completion
UNINSTALL_HOOKS += uninstall-man uninstall-completion
.PHONY: install-man install-completion uninstall-man uninstall-completion

install-man:
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/

# bash-completion loads a command's completion from a file named after the
# command: athttp-emu is a link to the one file that serves both.
install-completion:
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 completions/athttp $(DESTDIR)$(BASHCOMPDIR)/athttp
	ln -sf athttp $(DESTDIR)$(BASHCOMPDIR)/athttp-emu

uninstall-man:
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_PAGES)))

uninstall-completion:
	rm -f $(DESTDIR)$(BASHCOMPDIR)/athttp $(DESTDIR)$(BASHCOMPDIR)/athttp-emu
