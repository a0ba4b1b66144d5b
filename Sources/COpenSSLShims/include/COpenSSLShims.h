#ifndef FIXSERVE_OPENSSL_SHIMS_H
#define FIXSERVE_OPENSSL_SHIMS_H
#include <openssl/ssl.h>

/// SSL_CTX_set_min_proto_version is a macro; Swift cannot call it.
int fixserve_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
/// SSL_CTX_set_max_proto_version is a macro; Swift cannot call it.
int fixserve_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);

#endif
