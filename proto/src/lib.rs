//! Generated gRPC and event types for `proto/liandong/**`, one module per package.

#![allow(clippy::all, clippy::pedantic)]

pub mod time;

pub mod events {
    pub mod v1 {
        tonic::include_proto!("liandong.events.v1");
    }
}
pub mod brigade {
    pub mod v1 {
        tonic::include_proto!("liandong.brigade.v1");
    }
}
pub mod board {
    pub mod v1 {
        tonic::include_proto!("liandong.board.v1");
    }
}
pub mod county {
    pub mod v1 {
        tonic::include_proto!("liandong.county.v1");
    }
}
pub mod review {
    pub mod v1 {
        tonic::include_proto!("liandong.review.v1");
    }
}
pub mod disclosure {
    pub mod v1 {
        tonic::include_proto!("liandong.disclosure.v1");
    }
}
pub mod access {
    pub mod v1 {
        tonic::include_proto!("liandong.access.v1");
    }
}
pub mod readmodel {
    pub mod v1 {
        tonic::include_proto!("liandong.readmodel.v1");
    }
}

/// The encoded file descriptor set of every package, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("liandong_descriptor");

/// The same messages again, with serde impls in the canonical proto3 JSON mapping (pbjson):
/// camelCase names out, camelCase or proto names in, int64 as strings, enums by value name,
/// `Timestamp` as RFC 3339. Their `google.protobuf` types come from `pbjson_types`, so the
/// gRPC types above keep `prost_types` and nothing that uses them changes. Both copies share
/// one wire format, so either may be sent to a service.
#[cfg(feature = "json")]
pub mod json {
    pub mod events {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/json/liandong.events.v1.rs"));
            include!(concat!(
                env!("OUT_DIR"),
                "/json/liandong.events.v1.serde.rs"
            ));
        }
    }
    pub mod brigade {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/json/liandong.brigade.v1.rs"));
            include!(concat!(
                env!("OUT_DIR"),
                "/json/liandong.brigade.v1.serde.rs"
            ));
        }
    }
    pub mod board {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/json/liandong.board.v1.rs"));
            include!(concat!(env!("OUT_DIR"), "/json/liandong.board.v1.serde.rs"));
        }
    }
    pub mod county {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/json/liandong.county.v1.rs"));
            include!(concat!(
                env!("OUT_DIR"),
                "/json/liandong.county.v1.serde.rs"
            ));
        }
    }
    pub mod review {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/json/liandong.review.v1.rs"));
            include!(concat!(
                env!("OUT_DIR"),
                "/json/liandong.review.v1.serde.rs"
            ));
        }
    }
    pub mod disclosure {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/json/liandong.disclosure.v1.rs"));
            include!(concat!(
                env!("OUT_DIR"),
                "/json/liandong.disclosure.v1.serde.rs"
            ));
        }
    }
    pub mod access {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/json/liandong.access.v1.rs"));
            include!(concat!(
                env!("OUT_DIR"),
                "/json/liandong.access.v1.serde.rs"
            ));
        }
    }
}
