/* The keyclass release, printed by `keyclass --version`. */
#ifndef KCS_VERSION_H
#define KCS_VERSION_H

#define KEYCLASS_VERSION "0.1.0"

#endif
