//! Compiles proto/liandong/** with the vendored protoc, so no system protoc is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for area in ["events", "brigade", "board", "county"] {
        let dir = root.join("liandong").join(area).join("v1");
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "proto") {
                files.push(path);
            }
        }
    }
    files.sort();
    let descriptor = PathBuf::from(std::env::var("OUT_DIR")?).join("liandong_descriptor.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptor)
        .compile_protos(&files, &[root, protoc_bin_vendored::include_path()?])?;
    println!("cargo:rerun-if-changed=liandong");
    Ok(())
}
