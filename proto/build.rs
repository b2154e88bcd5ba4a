//! Compiles proto/liandong/** with the vendored protoc, so no system protoc is needed; with
//! the `json` feature, also a serde-capable copy of every message for the HTTP gateway.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("PROTOC", protoc) };
    // Read at run time, not baked in with `env!`: cargo reuses a build script binary across
    // checkouts at other paths (its hash leaves the path out), and a baked-in path compiled
    // another checkout's protos.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let mut files = Vec::new();
    for area in [
        "events",
        "brigade",
        "board",
        "county",
        "review",
        "disclosure",
        "access",
        "readmodel",
    ] {
        let dir = root.join("liandong").join(area).join("v1");
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "proto") {
                files.push(path);
            }
        }
    }
    files.sort();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor = out_dir.join("liandong_descriptor.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptor)
        .compile_protos(&files, &[root, protoc_bin_vendored::include_path()?])?;
    #[cfg(feature = "json")]
    json::generate(&descriptor, &out_dir.join("json"))?;
    println!("cargo:rerun-if-changed=liandong");
    Ok(())
}

#[cfg(feature = "json")]
mod json {
    //! The JSON twin: the same descriptors compiled again with `google.protobuf` taken from
    //! `pbjson_types` (whose `Timestamp` has serde impls), plus pbjson's serde impls.

    use std::path::Path;

    use prost::Message;

    pub fn generate(descriptor: &Path, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
        std::fs::create_dir_all(out)?;
        let bytes = std::fs::read(descriptor)?;
        let fds = tonic_prost_build::FileDescriptorSet::decode(bytes.as_slice())?;
        let mut config = tonic_prost_build::Config::new();
        // Type names let the gateway check each route's Rust types against the descriptors.
        config.enable_type_names();
        tonic_prost_build::configure()
            .build_client(false)
            .build_server(false)
            // Lets the extern path below replace prost-types' default mapping.
            .compile_well_known_types(true)
            .out_dir(out)
            .extern_path(".google.protobuf", "::pbjson_types")
            .compile_fds_with_config(fds, config)?;
        // Defaults: camelCase names on output, both camelCase and proto names accepted on
        // input, unknown fields rejected, enums as their value names.
        pbjson_build::Builder::new()
            .register_descriptors(&bytes)?
            .out_dir(out)
            .extern_path(".google.protobuf", "::pbjson_types")
            .build(&[".liandong"])?;
        Ok(())
    }
}
