// Structured journal entries: sd_journal_sendv takes an iovec of "FIELD=value" strings (sd_journal_send is
// variadic, which Swift cannot call).
#include "CSystemdShim.h"

#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

int cs_journal_send(const char *const *fields, size_t count) {
    struct iovec *iov = calloc(count ? count : 1, sizeof *iov);
    if (!iov) return -12;  // ENOMEM
    for (size_t i = 0; i < count; i++) iov[i] = (struct iovec){.iov_base = (void *)fields[i], .iov_len = strlen(fields[i])};
    int r = sd_journal_sendv(iov, (int)count);
    free(iov);
    return r;
}
