// Writes a one-example store and reads it back through the installed public
// headers only. Exit 0 and "consumer ok" when every value matches.
#include <iostream>

#include "oiv4kv/decode.h"
#include "oiv4kv/store.h"
#include "oiv4kv/writer.h"

namespace {

int Fail(const std::string& what) {
  std::cerr << "consumer: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: consumer STORE_DIR");
  using namespace oiv4kv;
  std::unique_ptr<Writer> writer;
  if (Status s = Writer::Open(argv[1], {}, &writer); !s.ok()) return Fail(s.ToString());
  std::vector<VocabEntry> sources;
  for (auto name : kSourceNames) sources.push_back({std::string(name), ""});
  for (auto [kind, mid] : {std::pair{VocabKind::kAll, "/m/01"},
                           std::pair{VocabKind::kTrainable, "/m/01"},
                           std::pair{VocabKind::kBoxable, "/m/01"}}) {
    if (!writer->PutVocabulary(kind, {{mid, "Thing"}}).ok()) return Fail("vocab");
  }
  if (!writer->PutVocabulary(VocabKind::kSource, sources).ok()) return Fail("sources");
  ExampleData e;
  e.split = Split::kValidation;
  e.image_id = 0x0011d545a9314517ULL;
  e.filename = "0011d545a9314517.jpg";
  e.bobjects.label = {0};
  e.bobjects.source = {4};
  e.bobjects.bbox = {0.25f, 0.5f, 0.75f, 1.0f};
  e.bobjects.is_occluded = e.bobjects.is_truncated = e.bobjects.is_group_of =
      e.bobjects.is_depiction = e.bobjects.is_inside = {1};
  const std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xD9};
  Batch batch;
  if (!writer->BeginConfig(Config::kOriginal).ok()) return Fail("begin");
  if (!batch.AddExample(e).ok()) return Fail("add");
  if (!batch.AddImage(Config::kOriginal, e.split, e.image_id, jpeg, {2, 1, ImageFormat::kJpeg})
           .ok()) {
    return Fail("add image");
  }
  const Split splits[] = {Split::kValidation};
  if (!writer->Write(batch).ok() ||
      !writer->CommitAnnotations(LabelOrder::kTfds, splits).ok() ||
      !writer->CommitConfig(Config::kOriginal).ok()) {
    return Fail(writer->status().ToString());
  }
  writer.reset();

  std::unique_ptr<Store> store;
  if (Status s = Store::Open(argv[1], {}, &store); !s.ok()) return Fail(s.ToString());
  ExampleView ex;
  if (Status s = store->At(Split::kValidation, 0, &ex); !s.ok()) return Fail(s.ToString());
  if (ex.filename() != "0011d545a9314517.jpg") return Fail("filename");
  if (ex.bobjects().box(0)[3] != 1.0f) return Fail("bbox");
  ImageView img;
  if (Status s = store->GetImage(Config::kOriginal, ex.split(), ex.image_id(), &img); !s.ok())
    return Fail(s.ToString());
  if (img.bytes().size() != 4 || img.width() != 2) return Fail("image");
  // The 4 bytes are SOI + EOI: Decode, linked from the installed library,
  // must name the image and the missing frame header.
  Decoder decoder;
  DecodedImage pixels;
  const Status d = decoder.Decode(img, {}, &pixels);
  if (!d.IsCorruption() ||
      d.message() != "original image validation/0011d545a9314517: corrupt JPEG "
                     "header: EOI before the first scan") {
    return Fail("decode: " + d.ToString());
  }
  std::cout << "consumer ok: "
            << store->vocabulary(VocabKind::kBoxable).display_name(ex.bobjects().label[0])
            << "\n";
  return 0;
}
