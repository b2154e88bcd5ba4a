//! Generated gRPC and event types for `proto/liandong/**`, one module per package.

#![allow(clippy::all, clippy::pedantic)]

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

/// The encoded file descriptor set of every package, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("liandong_descriptor");
