#ifndef FIXSERVE_OPENSSL_SHIMS_H
#define FIXSERVE_OPENSSL_SHIMS_H
#include <openssl/ssl.h>
#include <openssl/bio.h>

/// SSL_CTX_set_min_proto_version is a macro; Swift cannot call it.
int fixserve_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
/// SSL_CTX_set_max_proto_version is a macro; Swift cannot call it.
int fixserve_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
/// SSL_CTX_set_mode is a macro; Swift cannot call it. Returns the new mode bit mask.
long fixserve_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
/// BIO_set_mem_eof_return is a macro; Swift cannot call it.
long fixserve_BIO_set_mem_eof_return(BIO *bio, int value);
/// Sets SSL_OP_NO_RENEGOTIATION and SSL_OP_CIPHER_SERVER_PREFERENCE (macros built from
/// SSL_OP_BIT, which Swift cannot import). Returns the new option bit mask.
uint64_t fixserve_SSL_CTX_set_server_options(SSL_CTX *ctx);
/// Installs an ALPN selection callback that prefers "h2", then "http/1.1", and declines
/// (no ALPN extension in the reply) when the client offers neither. The protocol list is static.
void fixserve_SSL_CTX_select_h2_then_http11(SSL_CTX *ctx);

#endif
