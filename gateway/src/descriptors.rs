//! The compiled descriptor set, indexed by full name: what the route checks, the query
//! parameters and the OpenAPI document are all derived from.

use std::collections::HashMap;

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet, SourceCodeInfo};

/// What a field holds, as far as JSON cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A scalar, by its protobuf type.
    Scalar(Type),
    /// A message, by its full name without the leading dot.
    Message(String),
    /// An enum, by its full name without the leading dot.
    Enum(String),
}

/// One field of a message.
#[derive(Debug, Clone)]
pub struct Field {
    /// The name in the .proto file (`case_id`).
    pub name: String,
    /// The proto3 JSON name (`caseId`).
    pub json_name: String,
    pub kind: Kind,
    pub repeated: bool,
    pub comment: String,
}

/// One message.
#[derive(Debug, Clone)]
pub struct MessageInfo {
    pub fields: Vec<Field>,
    pub comment: String,
    /// A synthesised map entry (`map<K, V>` fields are repeated entries of one).
    pub map_entry: bool,
}

impl MessageInfo {
    /// The field called `name`, by its proto name or its JSON name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name == name || f.json_name == name)
    }
}

/// One enum.
#[derive(Debug, Clone)]
pub struct EnumInfo {
    pub values: Vec<String>,
    pub comment: String,
}

/// One RPC method.
#[derive(Debug, Clone)]
pub struct MethodInfo {
    pub input: String,
    pub output: String,
    pub comment: String,
}

/// Every message, enum and method of the descriptor set.
#[derive(Debug, Default)]
pub struct Descriptors {
    pub messages: HashMap<String, MessageInfo>,
    pub enums: HashMap<String, EnumInfo>,
    /// Keyed by the gRPC path, `/package.Service/Method`.
    pub methods: HashMap<String, MethodInfo>,
}

impl Descriptors {
    /// Decodes an encoded `FileDescriptorSet`.
    pub fn decode(bytes: &[u8]) -> Result<Descriptors, prost::DecodeError> {
        let set = FileDescriptorSet::decode(bytes)?;
        let mut d = Descriptors::default();
        for file in &set.file {
            let package = file.package();
            let comments = Comments(file.source_code_info.as_ref());
            for (i, m) in file.message_type.iter().enumerate() {
                d.add_message(package, m, &comments, vec![4, i as i32]);
            }
            for (i, e) in file.enum_type.iter().enumerate() {
                d.add_enum(package, e, &comments, vec![5, i as i32]);
            }
            for (si, service) in file.service.iter().enumerate() {
                for (mi, method) in service.method.iter().enumerate() {
                    d.methods.insert(
                        format!("/{package}.{}/{}", service.name(), method.name()),
                        MethodInfo {
                            input: strip_dot(method.input_type()),
                            output: strip_dot(method.output_type()),
                            comment: comments.at(&[6, si as i32, 2, mi as i32]),
                        },
                    );
                }
            }
        }
        Ok(d)
    }

    fn add_message(&mut self, scope: &str, m: &DescriptorProto, c: &Comments<'_>, path: Vec<i32>) {
        let full = format!("{scope}.{}", m.name());
        let fields = m
            .field
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut field_path = path.clone();
                field_path.extend([2, i as i32]);
                let kind = match f.r#type() {
                    Type::Message | Type::Group => Kind::Message(strip_dot(f.type_name())),
                    Type::Enum => Kind::Enum(strip_dot(f.type_name())),
                    scalar => Kind::Scalar(scalar),
                };
                Field {
                    name: f.name().to_owned(),
                    // protoc always fills json_name; the fallback keeps a hand-made set usable.
                    json_name: f.json_name.clone().unwrap_or_else(|| lower_camel(f.name())),
                    kind,
                    repeated: f.label() == Label::Repeated,
                    comment: c.at(&field_path),
                }
            })
            .collect();
        self.messages.insert(
            full.clone(),
            MessageInfo {
                fields,
                comment: c.at(&path),
                map_entry: m.options.as_ref().is_some_and(|o| o.map_entry()),
            },
        );
        for (i, nested) in m.nested_type.iter().enumerate() {
            let mut p = path.clone();
            p.extend([3, i as i32]);
            self.add_message(&full, nested, c, p);
        }
        for (i, e) in m.enum_type.iter().enumerate() {
            let mut p = path.clone();
            p.extend([4, i as i32]);
            self.add_enum(&full, e, c, p);
        }
    }

    fn add_enum(&mut self, scope: &str, e: &EnumDescriptorProto, c: &Comments<'_>, path: Vec<i32>) {
        self.enums.insert(
            format!("{scope}.{}", e.name()),
            EnumInfo {
                values: e.value.iter().map(|v| v.name().to_owned()).collect(),
                comment: c.at(&path),
            },
        );
    }
}

/// The leading comments of a file, looked up by descriptor path.
struct Comments<'a>(Option<&'a SourceCodeInfo>);

impl Comments<'_> {
    fn at(&self, path: &[i32]) -> String {
        self.0
            .and_then(|info| info.location.iter().find(|l| l.path == path))
            .and_then(|l| l.leading_comments.as_deref())
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    }
}

fn strip_dot(name: &str) -> String {
    name.strip_prefix('.').unwrap_or(name).to_owned()
}

/// protoc's JSON name: underscores dropped, the letter after each one upper-cased.
fn lower_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for ch in name.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_set_has_the_services_and_their_comments() {
        let d = Descriptors::decode(liandong_proto::FILE_DESCRIPTOR_SET).unwrap();
        let get_case = &d.methods["/liandong.brigade.v1.BrigadeService/GetCase"];
        assert_eq!(get_case.input, "liandong.brigade.v1.GetCaseRequest");
        assert!(get_case.comment.starts_with("Reads a case"));
        let field = d.messages["liandong.brigade.v1.GetCaseRequest"]
            .field("caseId")
            .unwrap();
        assert_eq!(field.name, "case_id");
        assert!(
            d.enums["liandong.events.v1.Path"]
                .values
                .contains(&"PATH_JOINT".to_owned())
        );
    }

    #[test]
    fn json_names_follow_protoc() {
        assert_eq!(lower_camel("case_id"), "caseId");
        assert_eq!(lower_camel("hotline_12345"), "hotline12345");
        assert_eq!(lower_camel("town"), "town");
    }
}
