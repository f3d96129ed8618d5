//! Names on LXC: a container's LXC name is its own (`rehearsal-<run>-<n>`, validated); an
//! image's is its `repo:tag` name with `/` written `+` and `:` written `@`
//! (`rehearsal/debian12:2a567ba1a009` is the LXC container `rehearsal+debian12@2a567ba1a009`).
//! Neither `+` nor `@` may appear in a Docker-style name or tag, so the mapping is
//! reversible, and an LXC name with a `+` is an image, never a case's container. The name
//! as given is also kept in the image's metadata (`rehearsal.json`), which is what the
//! backend reads; the mapping back is for a person reading `lxc-ls`.

/// What `/` is written as in an image's LXC name.
const SLASH: char = '+';
/// What `:` (before the tag) is written as.
const COLON: char = '@';

/// The image name with its tag: `repo` alone means `repo:latest`, as for Docker.
pub fn normalize(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// The LXC name of the image container that holds `image`.
pub fn image_dir(image: &str) -> Result<String, String> {
    let image = normalize(image);
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':');
    let (repo, tag) = image.rsplit_once(':').expect("normalized names have a tag");
    if repo.is_empty()
        || tag.is_empty()
        || tag.contains('/')
        || !image.chars().all(valid)
        || repo.contains(':')
        || !tag.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !repo
            .split('/')
            .all(|part| part.starts_with(|c: char| c.is_ascii_alphanumeric()))
    {
        return Err(format!(
            "`{image}` is not an image name the LXC backend takes (repo/name:tag, letters, digits, `.`, `_`, `-`)"
        ));
    }
    Ok(format!(
        "{}{COLON}{tag}",
        repo.replace('/', &SLASH.to_string())
    ))
}

/// The image name an image container's LXC name stands for (the inverse of
/// [`image_dir`]); `None` for a name that is not an image's.
pub fn image_of_dir(dir: &str) -> Option<String> {
    if !dir.contains(SLASH) {
        return None;
    }
    let (repo, tag) = dir.rsplit_once(COLON)?;
    Some(format!("{}:{tag}", repo.replace(SLASH, "/")))
}

/// The LXC name an image takes when another took its name while containers still stood
/// on it (Docker's dangling image): out of the way, and still an image's name.
pub fn dangling_dir(id: &str) -> String {
    let hex = id.trim_start_matches("sha256:");
    format!(
        "rehearsal{SLASH}dangling{COLON}{}",
        &hex[..hex.len().min(16)]
    )
}

/// A container's name must be a valid LXC name that cannot be an image's, a hidden
/// directory or a path: letters, digits, `_`, `.` and `-`, starting with a letter or digit.
pub fn check_container(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && name.len() <= 128 {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a container name the LXC backend takes (letters, digits, `_`, `.`, `-`; at most 128)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_map_to_lxc_names_and_back() {
        for (image, dir) in [
            (
                "rehearsal/debian12:2a567ba1a009",
                "rehearsal+debian12@2a567ba1a009",
            ),
            (
                "rehearsal/snapshot:debian12-0123456789abcdef",
                "rehearsal+snapshot@debian12-0123456789abcdef",
            ),
            ("a/b/c_d.e:T-1.x_y", "a+b+c_d.e@T-1.x_y"),
        ] {
            assert_eq!(image_dir(image).unwrap(), dir);
            assert_eq!(image_of_dir(dir).unwrap(), image);
        }
        assert_eq!(
            image_dir("rehearsal/debian12").unwrap(),
            "rehearsal+debian12@latest"
        );
        assert_eq!(normalize("host:5000/x"), "host:5000/x:latest");
    }

    #[test]
    fn names_that_would_not_be_reversible_or_valid_are_refused() {
        for bad in [
            "rehearsal/x:a:b",
            "rehearsal/x y:1",
            "rehearsal/x+y:1",
            "rehearsal/x@y:1",
            "/x:1",
            "x//y:1",
            ":1",
            "../../etc:1",
        ] {
            assert!(image_dir(bad).is_err(), "{bad}");
        }
        // A registry with a port has a `:` in its repo: not one of the harness's names.
        assert!(image_dir("host:5000/x:1").is_err());
    }

    #[test]
    fn container_names_never_look_like_images_or_paths() {
        for good in [
            "rehearsal-1234abcd-0",
            "rehearsal-snapshot-debian12-0123",
            "a.b_c",
        ] {
            check_container(good).unwrap();
        }
        for bad in ["", ".hidden", "-x", "a/b", "a+b@c", "a b", &"x".repeat(129)] {
            assert!(check_container(bad).is_err(), "{bad}");
        }
        assert_eq!(image_of_dir("rehearsal-1234abcd-0"), None);
        assert_eq!(
            dangling_dir("sha256:00112233445566778899aabbccddeeff00"),
            "rehearsal+dangling@0011223344556677"
        );
    }
}
