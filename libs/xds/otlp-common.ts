import protobuf from 'protobufjs';

/**
 * The four OTLP value messages that Envoy's OpenTelemetry access logger config imports
 * (`opentelemetry/proto/common/v1/common.proto`: AnyValue, ArrayValue, KeyValueList, KeyValue),
 * declared for protobufjs because no package installed here ships that .proto file (grpc-js-xds
 * ships Envoy's API but not opentelemetry-proto). Field names and numbers are opentelemetry-proto
 * v1's. Replace with the shipped file if a package providing it is added.
 */
export function registerOtlpCommon(): void {
  protobuf.common('opentelemetry/proto/common/v1/common.proto', {
    nested: {
      opentelemetry: {
        nested: {
          proto: {
            nested: {
              common: {
                nested: {
                  v1: {
                    nested: {
                      AnyValue: {
                        oneofs: { value: { oneof: ['string_value', 'bool_value', 'int_value', 'double_value', 'array_value', 'kvlist_value', 'bytes_value'] } },
                        fields: {
                          string_value: { type: 'string', id: 1 },
                          bool_value: { type: 'bool', id: 2 },
                          int_value: { type: 'int64', id: 3 },
                          double_value: { type: 'double', id: 4 },
                          array_value: { type: 'ArrayValue', id: 5 },
                          kvlist_value: { type: 'KeyValueList', id: 6 },
                          bytes_value: { type: 'bytes', id: 7 },
                        },
                      },
                      ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
                      KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
                      KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  });
}
