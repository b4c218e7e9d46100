#!/bin/sh
# Regenerates src/criu/gen/ (checked in) from ocirt's definition of criu's RPC
# messages (src/criu/proto/criu_rpc.proto): encode/decode functions by ts-proto
# (devDependency) over @bufbuild/protobuf's wire module, as scripts/gen-shim-proto.sh
# does for the shim. Needs protoc (Debian: protobuf-compiler).
set -eu
cd "$(dirname "$0")/.."
out=src/criu/gen
rm -rf "$out"
mkdir -p "$out"
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=forceLong=bigint,useDate=false,outputServices=false,outputJsonMethods=false,outputPartialMethods=true,esModuleInterop=true,env=both,useExactTypes=false,oneof=unions,outputTypeRegistry=false,exportCommonSymbols=false,initializeFieldsAsUndefined=false,importSuffix= \
  -I src/criu/proto \
  src/criu/proto/criu_rpc.proto
echo "generated $(ls "$out" | grep -c '\.ts$') file(s) in $out"
