// write_sample_store DIR: writes two small sample stores for the Python tests
// (store/testing/sample_examples.h, committed, config original):
//   DIR/good  as the generator makes it;
//   DIR/bad   the same, but each display name of the `all` class list is
//             prefixed with the bytes ff fe, which are not UTF-8 (a store may
//             hold whatever bytes a download gave), and the first one is
//             only the byte ff.
// Exit 0 on success, 1 with the error on stderr.
#include <iostream>

#include <rocksdb/db.h>

#include "store/core/format/layout.h"
#include "store/core/format/records.h"
#include "tests/testutil.h"

namespace oiv4kv {
namespace {

Status Write(const std::string& dir) {
  testing::SampleSpec spec;
  spec.examples = {12, 4, 4};
  testing::SampleStore good, bad;
  OIV4KV_RETURN_IF_ERROR(testing::WriteSampleStore(dir + "/good", spec, &good));
  OIV4KV_RETURN_IF_ERROR(testing::WriteSampleStore(dir + "/bad", spec, &bad));
  std::vector<VocabEntry> all = bad.vocab.all;
  for (VocabEntry& e : all) e.display_name = "\xff\xfe" + e.display_name;
  all.front().display_name = "\xff";
  OpenDb db;
  OIV4KV_RETURN_IF_ERROR(OpenRocksDb(bad.path, WriterDbOptions(WriterOptions()),
                                     WriterFamilies(WriterOptions(), LayoutTuning()), false, &db));
  OIV4KV_RETURN_IF_ERROR(FromRocks(
      db.db->Put(rocksdb::WriteOptions(), db.family(Family::kVocab),
                 std::string(VocabKindName(VocabKind::kAll)), EncodeVocabulary(VocabKind::kAll, all)),
      bad.path));
  return FromRocks(db.db->Flush(rocksdb::FlushOptions(), db.family(Family::kVocab)), bad.path);
}

}  // namespace
}  // namespace oiv4kv

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_sample_store DIR\n";
    return 2;
  }
  const oiv4kv::Status s = oiv4kv::Write(argv[1]);
  if (!s.ok()) {
    std::cerr << "write_sample_store: " << s.ToString() << "\n";
    return 1;
  }
  return 0;
}
