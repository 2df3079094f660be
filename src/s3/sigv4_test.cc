// SigV4 against the worked examples in AWS's S3 API reference ("Signature Calculations for
// the Authorization Header: Transferring Payload in a Single Chunk"): examplebucket,
// AKIAIOSFODNN7EXAMPLE, us-east-1, 20130524T000000Z.
#include "s3/sigv4.h"

#include <gtest/gtest.h>

namespace nj::s3 {
namespace {

const Credentials kExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
const std::string kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigningInput example(std::string method, std::string path) {
  SigningInput in;
  in.method = std::move(method);
  in.host = "examplebucket.s3.amazonaws.com";
  in.path = std::move(path);
  in.payload_hash = kEmptyHash;
  in.amz_date = "20130524T000000Z";
  return in;
}

TEST(SigV4, GetObjectWithARange) {
  auto in = example("GET", "/test.txt");
  in.headers = {{"Range", "bytes=0-9"}};
  const auto s = sign_v4(in, kExample, "us-east-1");
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" +
                kEmptyHash + "\nx-amz-date:20130524T000000Z\n\n" +
                "host;range;x-amz-content-sha256;x-amz-date\n" + kEmptyHash);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PutObjectWithAKeyThatNeedsEncodingAndASignedBody) {
  const std::string body = "Welcome to Amazon S3.";
  auto in = example("PUT", "/" + uri_encode("test$file.text", false));
  EXPECT_EQ(in.path, "/test%24file.text");
  in.payload_hash = sha256_hex(body);
  EXPECT_EQ(in.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  in.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  const auto s = sign_v4(in, kExample, "us-east-1");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_NE(s.authorization.find(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"),
            std::string::npos);
}

TEST(SigV4, ASubresourceWithNoValue) {
  auto in = example("GET", "/");
  in.query = {{"lifecycle", ""}};
  const auto s = sign_v4(in, kExample, "us-east-1");
  EXPECT_NE(s.canonical_request.find("\n/\nlifecycle=\n"), std::string::npos);
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, AListingWhoseQueryIsSortedHere) {
  auto in = example("GET", "/");
  in.query = {{"prefix", "J"}, {"max-keys", "2"}};  // in the wrong order on purpose
  const auto s = sign_v4(in, kExample, "us-east-1");
  EXPECT_NE(s.canonical_request.find("\n/\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// The query's own encoding: every reserved byte escaped (the '/' of a prefix, '=' and '&' in
// a value, a space as %20, never '+'), unreserved ones kept, pairs sorted after encoding.
TEST(SigV4, TheCanonicalQueryEncodesEverythingButTheUnreserved) {
  EXPECT_EQ(canonical_query({{"prefix", "eu/CAM 1/2026-12-05/"}, {"list-type", "2"}}),
            "list-type=2&prefix=eu%2FCAM%201%2F2026-12-05%2F");
  EXPECT_EQ(canonical_query({{"a", "x=y&z"}, {"A", "~-._"}, {"a", "+"}}),
            "A=~-._&a=%2B&a=x%3Dy%26z");
  EXPECT_EQ(uri_encode("é", true), "%C3%A9");
  EXPECT_EQ(encode_path("media", "eu/CAM-1/2026-12-05/1-2.mp4"),
            "/media/eu/CAM-1/2026-12-05/1-2.mp4");
  EXPECT_EQ(amz_date(1369353600), "20130524T000000Z");
}

TEST(SigV4, HeaderValuesAreTrimmedAndNamesLowerCased) {
  auto a = example("GET", "/test.txt");
  a.headers = {{"Range", "  bytes=0-9 "}};
  auto b = example("GET", "/test.txt");
  b.headers = {{"range", "bytes=0-9"}};
  EXPECT_EQ(sign_v4(a, kExample, "us-east-1").signature,
            sign_v4(b, kExample, "us-east-1").signature);
}

}  // namespace
}  // namespace nj::s3
