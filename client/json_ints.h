// JsonIntsAsNumbers: protobuf's JSON mapping prints 64-bit integers (int64, uint64 and
// their sint/fixed/sfixed kinds, google.protobuf.Int64Value/UInt64Value) as strings
// ("events_applied": "1234"), since JavaScript's numbers hold integers exactly only up to
// 2^53. The CLI's --json_ints_as_numbers prints them as JSON numbers instead (the same
// digits, exact however large; a JavaScript parser rounds those beyond 2^53).
// Pure function; any thread.
#ifndef STREAMREC_CLIENT_JSON_INTS_H_
#define STREAMREC_CLIENT_JSON_INTS_H_

#include <string>

#include "google/protobuf/descriptor.h"

namespace streamrec::client {

// JsonIntsAsNumbers: `json`, protobuf's JSON of a message of type `type` (proto field
// names or JSON names), with the quotes dropped around the values of 64-bit integer
// fields, found by walking `type`'s descriptor alongside the text (so a string field
// that holds digits stays a string). Anything it does not recognise is copied as is.
std::string JsonIntsAsNumbers(const std::string& json,
                              const google::protobuf::Descriptor* type);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_JSON_INTS_H_
