//! Personal data hidden before a decision is disclosed: the party's typed fields and free text.
//!
//! What is hidden follows the rules for disclosing enforcement decisions: a natural person's
//! name is reduced to the surname (张某), their ID-card number, phone and bank account are
//! removed, their address is cut to the village; an organisation keeps its name. Free text
//! (descriptions, summaries, reasons) gets the same treatment by pattern, since officers write
//! numbers and names into it whatever the forms say.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::state::named_enum;

named_enum! {
    /// Whether the party is a natural person or an organisation (法人或者其他组织).
    pub enum PartyKind: "party kind" {
        Person => "person",
        Organisation => "organisation",
    }
}

/// The party of a decision (当事人) as the decision names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub kind: PartyKind,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub bank_account: String,
    /// A decision involving a minor is never published.
    pub minor: bool,
}

/// What may be shown of a party: no ID, phone or bank number exists here at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedParty {
    pub kind: PartyKind,
    pub name: String,
    pub address: String,
}

/// What an ID-card number in free text becomes.
pub const ID_MASK: &str = "[证件号码已隐去]";
/// What a phone number in free text becomes.
pub const PHONE_MASK: &str = "[联系电话已隐去]";
/// What a bank card or account number in free text becomes.
pub const BANK_MASK: &str = "[银行账号已隐去]";

/// The two-character surnames, so that 欧阳修 becomes 欧阳某 and not 欧某.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "呼延", "澹台", "万俟", "闻人", "钟离",
];

/// Common single-character surnames. A name found in free text after a word like 村民 must start
/// with one of these or a compound surname: without it, "村民反映" would lose its verb. Words
/// that are also common surnames but far more often ordinary words (和, 向, 时 …) are left out.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘\
于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎\
贺顾毛郝龚邵万钱严覃武戴莫孔汤温康施文牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳\
甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳\
穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋商刁沙\
荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝洪";

/// Characters that, right after a two-character name, start the rest of the sentence rather
/// than a third character of the name ("村民张三在山上" is 张三, not 张三在).
const AFTER_NAME: &str = "在于因等的未擅私违将把被和与及系是家户称说已又也均曾到去从对向为以所自驾持携用拒经非无\
不没乱滥砍伐捕挖建搭占堆倒排放烧养种运卖收开驶举投反告诉表要请、，。；：！？（）";

/// Words after which a person's name usually follows in a case description.
static NAME_MARKERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("(?:村民|当事人|举报人|证人|户主|业主|船主|车主|驾驶员|法定代表人|负责人|经营者|邻居)[:：]?\\s*")
        .expect("a valid pattern")
});

/// A name right before a label of personal data (赵六电话…, 李四的身份证…): two or three
/// characters starting with a common surname.
static NAME_BEFORE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "([{SURNAMES}])(\\p{{Han}}{{1,2}}?)(?:的)?(?:电话|手机|身份证|住址|家住|联系方式|银行)"
    ))
    .expect("a valid pattern")
});

/// A run of digits, possibly in groups split by single spaces or hyphens (138 1234 5678,
/// 0579-8234 5678), possibly ending in the X of an ID-card check digit. Full-width digits count.
static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("[0-9０-９]+(?:[ \\-－][0-9０-９]+)*[XxＸｘ]?").expect("a valid pattern")
});

/// A landline written with its area code in brackets: (0579)82345678.
static BRACKETED_LANDLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("[（(]\\s*0[0-9]{2,3}\\s*[)）]\\s*[0-9]{7,8}").expect("a valid pattern")
});

/// A number after a word that says it is a phone number, however short: a local landline of
/// seven or eight digits is indistinguishable from an amount without it.
static LABELLED_PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("((?:联系电话|联系方式|电话|手机|座机|[Tt][Ee][Ll])(?:号码|号)?[:：]?\\s*)([0-9０-９][0-9０-９ \\-－]{5,}[0-9０-９])")
        .expect("a valid pattern")
});

/// A person's name reduced to the surname and 某 (张三 → 张某, 欧阳修 → 欧阳某); empty stays empty.
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return String::new();
    }
    if let Some(compound) = COMPOUND_SURNAMES
        .iter()
        .find(|s| name.starts_with(*s) && name.chars().count() > 2)
    {
        return format!("{compound}某");
    }
    let first = name.chars().next().expect("not empty");
    if name.chars().count() == 1 {
        "某".into()
    } else {
        format!("{first}某")
    }
}

/// An address cut to the village (…镇东山村), or, without a village, to the town or street;
/// an address without either is hidden entirely, since house numbers are all that would remain.
pub fn mask_address(address: &str) -> String {
    let address = address.trim();
    let end_of_first = |markers: &[&str]| {
        markers
            .iter()
            .filter_map(|m| address.find(m).map(|i| i + m.len()))
            .min()
    };
    let end_of_last = |markers: &[&str]| {
        markers
            .iter()
            .filter_map(|m| address.rfind(m).map(|i| i + m.len()))
            .max()
    };
    end_of_first(&["村", "社区", "居委会", "嘎查"])
        .or_else(|| end_of_last(&["镇", "乡", "街道"]))
        .map(|end| address[..end].to_owned())
        .unwrap_or_default()
}

/// The party as the public may see them.
pub fn mask_party(p: &Party) -> MaskedParty {
    MaskedParty {
        kind: p.kind,
        name: match p.kind {
            PartyKind::Person => mask_name(&p.name),
            PartyKind::Organisation => p.name.trim().to_owned(),
        },
        address: match p.kind {
            PartyKind::Person => mask_address(&p.address),
            // An organisation's registered address is public (企业信用信息公示).
            PartyKind::Organisation => p.address.trim().to_owned(),
        },
    }
}

/// Free text about the decision on `p`, masked: first the party's own typed values wherever they
/// appear verbatim (whatever their format), then [`mask_text`] with the party's name.
pub fn mask_text_for(text: &str, p: &Party) -> String {
    let mut out = text.to_owned();
    for (raw, mask) in [
        (p.id_number.trim(), ID_MASK),
        (p.phone.trim(), PHONE_MASK),
        (p.bank_account.trim(), BANK_MASK),
    ] {
        if raw.chars().count() >= 4 {
            out = out.replace(raw, mask);
        }
    }
    if p.kind == PartyKind::Person {
        let address = p.address.trim();
        if !address.is_empty() {
            out = out.replace(address, &mask_address(address));
        }
    }
    let names: Vec<&str> = match p.kind {
        PartyKind::Person => vec![p.name.as_str()],
        PartyKind::Organisation => vec![],
    };
    mask_text(&out, &names)
}

/// Free text with personal data masked: every name in `known_names` reduced to surname + 某,
/// names after words like 村民 or 当事人 likewise, and ID-card numbers (18 digits, the last
/// possibly X, or the old 15), mobile numbers (1[3-9] and nine digits, with or without +86),
/// landlines (0 and an area code, or any number labelled 电话), and bank card numbers (16–19
/// digits) replaced by a note that they were removed. Digits may be written in groups.
pub fn mask_text(text: &str, known_names: &[&str]) -> String {
    let mut names: Vec<&str> = known_names
        .iter()
        .map(|n| n.trim())
        .filter(|n| n.chars().count() >= 2)
        .collect();
    // The longest first, so that 张三丰 is not masked as 张某丰 because 张三 was also known.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_owned();
    for n in names {
        out = out.replace(n, &mask_name(n));
    }
    let (mut out, mut found) = mask_names_after_markers(&out);
    found.extend(
        NAME_BEFORE_LABEL
            .captures_iter(&out)
            .filter(|c| !c[2].contains('某'))
            .map(|c| format!("{}{}", &c[1], &c[2])),
    );
    // A name found once after a marker is masked wherever else it appears ("邻居李四举报，
    // 李四称…").
    for name in found {
        out = out.replace(&name, &mask_name(&name));
    }
    let out = BRACKETED_LANDLINE.replace_all(&out, PHONE_MASK);
    let out = LABELLED_PHONE.replace_all(&out, |c: &Captures<'_>| format!("{}{PHONE_MASK}", &c[1]));
    DIGIT_RUN
        .replace_all(&out, |c: &Captures<'_>| mask_digit_run(&c[0]))
        .into_owned()
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Names after the words in [`NAME_MARKERS`]: two characters, or three when the third is not
/// a word that typically follows a name; only when the first is a common surname. Returns the
/// text and the names found.
fn mask_names_after_markers(text: &str) -> (String, Vec<String>) {
    let mut found = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in NAME_MARKERS.find_iter(text) {
        if m.start() < at {
            continue;
        }
        out.push_str(&text[at..m.end()]);
        at = m.end();
        let rest = &text[at..];
        let han: Vec<char> = rest.chars().take_while(|c| is_han(*c)).take(4).collect();
        let (surname_len, surname) = match COMPOUND_SURNAMES.iter().find(|s| rest.starts_with(*s)) {
            Some(s) => (2, (*s).to_owned()),
            None => match han.first() {
                Some(c) if SURNAMES.contains(*c) => (1, c.to_string()),
                _ => continue,
            },
        };
        // Already masked (张某), or nothing after the surname.
        let Some(&second) = han.get(surname_len) else {
            continue;
        };
        if second == '某' || AFTER_NAME.contains(second) {
            continue;
        }
        let given = match han.get(surname_len + 1) {
            Some(third) if !AFTER_NAME.contains(*third) && *third != '某' => 2,
            _ => 1,
        };
        let taken: usize = han[..surname_len + given]
            .iter()
            .map(|c| c.len_utf8())
            .sum();
        found.push(text[at..at + taken].to_owned());
        out.push_str(&surname);
        out.push('某');
        at += taken;
    }
    out.push_str(&text[at..]);
    (out, found)
}

/// What kind of number a string of digits is, if it is personal data.
fn classify(digits: &str, check_x: bool) -> Option<&'static str> {
    let n = digits.len();
    let starts = |p: &str| digits.starts_with(p);
    let mobile = |d: &str| {
        let b = d.as_bytes();
        b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
    };
    if check_x {
        return (n == 17).then_some(ID_MASK);
    }
    match n {
        18 if id_check_digit_ok(digits) => Some(ID_MASK),
        16..=19 => Some(BANK_MASK),
        15 => Some(ID_MASK),
        11 if mobile(digits) => Some(PHONE_MASK),
        13 if starts("86") && mobile(&digits[2..]) => Some(PHONE_MASK),
        10..=12 if starts("0") && !starts("00") => Some(PHONE_MASK),
        _ => None,
    }
}

/// The ISO 7064 MOD 11-2 check digit of an 18-digit ID-card number, to tell it from an
/// 18-digit bank card; both are masked, only the note differs.
fn id_check_digit_ok(digits: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 18 {
        return false;
    }
    let sum: u32 = d[..17].iter().zip(WEIGHTS).map(|(a, w)| a * w).sum();
    CHECK[(sum % 11) as usize] == b'0' + d[17] as u8
}

/// One digit run: masked whole if it is personal data, else group by group, taking the
/// longest span of consecutive groups that is (so "罚款 500 138 1234 5678" keeps the 500).
fn mask_digit_run(run: &str) -> String {
    let normal: String = run
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            'Ｘ' | 'ｘ' | 'x' => 'X',
            '－' => '-',
            c => c,
        })
        .collect();
    let (body, x) = match normal.strip_suffix('X') {
        Some(b) => (b, true),
        None => (normal.as_str(), false),
    };
    let groups: Vec<&str> = body.split([' ', '-']).collect();
    let seps: Vec<char> = body.chars().filter(|c| *c == ' ' || *c == '-').collect();
    let mut out = String::new();
    let mut i = 0;
    while i < groups.len() {
        let mut masked = false;
        for j in (i + 1..=groups.len()).rev() {
            let with_x = x && j == groups.len();
            if let Some(mask) = classify(&groups[i..j].concat(), with_x) {
                out.push_str(mask);
                i = j;
                masked = true;
                break;
            }
        }
        if !masked {
            out.push_str(groups[i]);
            i += 1;
        }
        if i < groups.len() {
            out.push(seps[i - 1]);
        }
    }
    if x && !out.ends_with(ID_MASK) {
        out.push('X');
    }
    // The original characters where nothing was masked (full-width digits stay full-width).
    if !out.contains('[') {
        run.to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str) -> Party {
        Party {
            kind: PartyKind::Person,
            name: name.into(),
            id_number: "33078219900101123X".into(),
            phone: "13812345678".into(),
            address: "浙江省义乌市佛堂镇东山村3组12号".into(),
            bank_account: "6222021234567890123".into(),
            minor: false,
        }
    }

    #[test]
    fn names_become_surname_and_mou() {
        for (name, masked) in [
            ("张三", "张某"),
            ("王小二", "王某"),
            ("欧阳修", "欧阳某"),
            ("欧阳", "欧某"),
            (" 李四 ", "李某"),
            ("李", "某"),
            ("", ""),
        ] {
            assert_eq!(mask_name(name), masked, "{name}");
        }
    }

    #[test]
    fn addresses_are_cut_to_the_village() {
        for (address, masked) in [
            (
                "浙江省义乌市佛堂镇东山村3组12号",
                "浙江省义乌市佛堂镇东山村",
            ),
            ("佛堂镇东山村", "佛堂镇东山村"),
            ("稠城街道江滨社区8幢301室", "稠城街道江滨社区"),
            ("佛堂镇环城南路88号", "佛堂镇"),
            ("城西街道工人北路5号", "城西街道"),
            ("工人北路5号", ""),
            ("", ""),
        ] {
            assert_eq!(mask_address(address), masked, "{address}");
        }
    }

    #[test]
    fn a_person_keeps_only_surname_and_village() {
        let m = mask_party(&person("张三丰"));
        assert_eq!(m.name, "张某");
        assert_eq!(m.address, "浙江省义乌市佛堂镇东山村");
    }

    #[test]
    fn an_organisation_keeps_its_name() {
        let p = Party {
            kind: PartyKind::Organisation,
            name: "义乌市东山建材有限公司".into(),
            address: "佛堂镇工业园区1号".into(),
            ..person("")
        };
        let m = mask_party(&p);
        assert_eq!(m.name, "义乌市东山建材有限公司");
        assert_eq!(m.address, "佛堂镇工业园区1号");
    }

    /// One row per pattern: the raw text, what must be gone, what must be there.
    #[test]
    fn numbers_in_free_text_are_removed() {
        let check = |text: &str, gone: &str, there: &str| {
            let out = mask_text(text, &[]);
            assert!(
                !out.contains(gone),
                "{text:?} -> {out:?} still has {gone:?}"
            );
            assert!(out.contains(there), "{text:?} -> {out:?} lacks {there:?}");
        };
        check(
            "身份证号330782198503123412，",
            "330782198503123412",
            ID_MASK,
        );
        check("身份证33078219850312341X。", "33078219850312341X", ID_MASK);
        check("证件号33078219850312341x", "33078219850312341", ID_MASK);
        check("旧证330782850312341号", "330782850312341", ID_MASK);
        check("手机13812345678联系", "13812345678", PHONE_MASK);
        check("手机138 1234 5678", "5678", PHONE_MASK);
        check("手机138-1234-5678", "1234", PHONE_MASK);
        check("电话+86 13812345678", "13812345678", PHONE_MASK);
        check("座机0579-82345678", "82345678", PHONE_MASK);
        check("座机（0579）82345678", "82345678", PHONE_MASK);
        check("办公室057982345678", "057982345678", PHONE_MASK);
        check("联系电话：82345678", "82345678", PHONE_MASK);
        check("Tel 8234567", "8234567", PHONE_MASK);
        check("卡号6222021234567890123", "6222021234567890123", BANK_MASK);
        check("账号6222 0212 3456 7890", "7890", BANK_MASK);
        check("卡号6222021234567890", "6222021234567890", BANK_MASK);
        check("全角１３８１２３４５６７８", "５６７８", PHONE_MASK);
        check("罚款500 13812345678元", "13812345678", "500");
    }

    #[test]
    fn ordinary_numbers_are_kept() {
        for text in [
            "罚款人民币2000元",
            "2026-05-28 08:30 在后山",
            "砍伐杉木15株，面积300平方米",
            "义综执罚〔2026〕13号",
            "没收渔网300张、地笼500个",
            "20260528",
        ] {
            assert_eq!(mask_text(text, &[]), text);
        }
    }

    #[test]
    fn known_names_and_names_after_markers_are_masked() {
        let check = |text: &str, known: &[&str], want: &str| {
            assert_eq!(mask_text(text, known), want, "{text}");
        };
        check(
            "张三丰在后山砍树，张三丰承认",
            &["张三丰"],
            "张某在后山砍树，张某承认",
        );
        check("张三丰与张三", &["张三", "张三丰"], "张某与张某");
        check("村民李四在山上砍树", &[], "村民李某在山上砍树");
        check("村民李小四砍树", &[], "村民李某砍树");
        check("当事人：王五未办理许可", &[], "当事人：王某未办理许可");
        check("举报人欧阳娜娜称", &[], "举报人欧阳某称");
        check("当事人张某已改正", &[], "当事人张某已改正");
        check("村民反映后山有人砍树", &[], "村民反映后山有人砍树");
        check("当事人未按期改正", &[], "当事人未按期改正");
        check("村民委员会协助", &[], "村民委员会协助");
        check("邻居赵六、钱七作证", &[], "邻居赵某、钱七作证");
        check("邻居李四举报，李四称", &[], "邻居李某举报，李某称");
        check("（赵六电话已停机）", &[], "（赵某电话已停机）");
        check("张三丰的住址不详", &[], "张某的住址不详");
        check("联系电话与座机电话", &[], "联系电话与座机电话");
        check("王某电话", &[], "王某电话");
    }

    #[test]
    fn the_partys_own_values_are_removed_whatever_their_format() {
        let mut p = person("张三丰");
        p.phone = "8234-5678".into();
        let text = "当事人张三丰（住浙江省义乌市佛堂镇东山村3组12号，电话8234-5678，\
                    身份证33078219850312341X，账户6222021234567890123）在后山砍伐杉木";
        let out = mask_text_for(text, &p);
        for raw in [
            "张三丰",
            "3组12号",
            "8234-5678",
            "33078219850312341X",
            "6222021234567890123",
        ] {
            assert!(!out.contains(raw), "{out} still has {raw}");
        }
        assert!(
            out.contains("张某") && out.contains("东山村") && out.contains("砍伐杉木"),
            "{out}"
        );
    }

    #[test]
    fn id_check_digits_tell_ids_from_cards() {
        assert!(id_check_digit_ok("330782198503123412"));
        assert!(!id_check_digit_ok("330782198503123413"));
        assert_eq!(classify("11010519491231002", true), Some(ID_MASK));
        assert_eq!(classify("110105194912310021", false), Some(BANK_MASK));
    }
}
