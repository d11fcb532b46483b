// Feature text: the CLI's `name=value` notation for features and items.
//   user=u42            category
//   age=31  price=9.5   number (anything that parses fully as a finite number)
//   genres=drama|war    categories (multi-valued; `|` separates)
//   emb=[0.1,0.2,0.3]   vector
//   user:=007           always the one category, verbatim ("007", not the number 7;
//                       no `|` or `[..]` reading either)
//   ID[,name=value...]  an item: its id, then its features (for --item); a comma inside
//                       [..] belongs to a vector: "m1,emb=[0.1,0.2],genre=war"
// Pure functions; errors are messages naming the offending text.
#ifndef STREAMREC_CLIENT_FEATURE_TEXT_H_
#define STREAMREC_CLIENT_FEATURE_TEXT_H_

#include <string>

#include "streamrec/v1/streamrec.pb.h"

namespace streamrec::client {

// ParseAssignment adds one `name=value` (or `name:=value`) to features; returns an error
// or "".
std::string ParseAssignment(const std::string& text, v1::Features& features);
// ParseItem parses `ID[,name=value...]`; returns an error or "".
std::string ParseItem(const std::string& text, v1::Item& item);

}  // namespace streamrec::client

#endif  // STREAMREC_CLIENT_FEATURE_TEXT_H_
