#!/bin/sh
# Regenerates src/shim/gen/ (checked in) from the shim's own message definitions in
# src/shim/proto/: TypeScript encode/decode functions by ts-proto (devDependency),
# whose runtime is @bufbuild/protobuf's wire module. Needs protoc (Debian:
# protobuf-compiler), which also supplies google/protobuf/*.proto.
set -eu
cd "$(dirname "$0")/.."
out=src/shim/gen
rm -rf "$out"
mkdir -p "$out"
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=forceLong=bigint,useDate=false,outputServices=false,outputJsonMethods=false,outputPartialMethods=true,esModuleInterop=true,env=both,useExactTypes=false,oneof=unions,outputTypeRegistry=false,exportCommonSymbols=false,initializeFieldsAsUndefined=false,importSuffix= \
  -I src/shim/proto -I /usr/include \
  src/shim/proto/*.proto
echo "generated $(ls -R "$out" | grep -c '\.ts$') files in $out"
