# embed_file.cmake -DIN=FILE -DOUT=C_FILE: writes srv_openapi_doc (the bytes of
# IN) and srv_openapi_doc_len as C, for certflow serve (server/server.h).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp" "/* Generated from ${IN} by cmake/embed_file.cmake: do not edit. */\n#include <stddef.h>\nconst unsigned char srv_openapi_doc[] = {\n${bytes}0x00};\nconst size_t srv_openapi_doc_len = ${len};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
