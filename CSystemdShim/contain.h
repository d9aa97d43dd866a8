// The containment steps of the held child (contain.c), shared by spawn.c. Not part of the public header.
#ifndef CSYSTEMDSHIM_CONTAIN_H
#define CSYSTEMDSHIM_CONTAIN_H

#include "CSystemdShim.h"

/// The namespace steps: user namespace, cgroup and mount namespaces, hidden sockets, read-only mounts. 0 or -errno.
int contain_namespaces(const cs_containment *containment, cs_spawn_failure *failure);

/// The Landlock step: makes the ruleset, adds its rules and enforces it (needs no_new_privs). 0 or -errno.
int contain_landlock(const cs_containment *containment, cs_spawn_failure *failure);

/// The credential steps: securebits, bounding set, ids, capabilities, ambient set. 0 or -errno.
int contain_credentials(const cs_containment *containment, cs_spawn_failure *failure);

#endif
