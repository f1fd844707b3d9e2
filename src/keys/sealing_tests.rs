use super::*;

fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("pintu-kek-{}", uuid::Uuid::new_v4()))
}

#[test]
fn sealed_value_opens_only_with_the_same_kek() {
    let sealer = Sealer::ephemeral();
    let sealed = sealer.seal(b"private key").unwrap();
    assert_eq!(sealer.open(&sealed).unwrap(), b"private key");
    assert!(Sealer::ephemeral().open(&sealed).is_err());
}

#[test]
fn a_sealed_value_names_its_kek() {
    let sealer = Sealer::ephemeral();
    let sealed = sealer.seal(b"x").unwrap();
    let header = URL_SAFE_NO_PAD.decode(sealed.split('.').next().unwrap()).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header["kid"], sealer.kek_id());
    assert_eq!(sealer.kek_id().len(), 12);
}

#[test]
fn a_value_sealed_before_kids_still_opens() {
    let sealer = Sealer::ephemeral();
    let mut header = JweHeader::new();
    header.set_content_encryption("A256GCM");
    let keks = sealer.read();
    let encrypter = Dir.encrypter_from_bytes(keks.current.key.expose_secret()).unwrap();
    let legacy = josekit::jwe::serialize_compact(b"old", &header, &encrypter).unwrap();
    drop(keks);
    assert_eq!(sealer.open(&legacy).unwrap(), b"old");
}

#[test]
fn kek_file_is_created_with_owner_only_permissions() {
    let dir = scratch_dir();
    let (_, created) = Sealer::load_or_create(&dir, None).unwrap();
    assert!(created);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(KEK_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (_, created_again) = Sealer::load_or_create(&dir, None).unwrap();
    assert!(!created_again);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_exported_kek_is_installed_and_found_again() {
    let dir = scratch_dir();
    let sealer = Sealer::ephemeral();
    assert!(Sealer::existing(&dir, None).unwrap().is_none());
    let copy = Sealer::from_export(&sealer.export()).unwrap();
    assert!(copy.same_kek(&sealer) && !copy.same_kek(&Sealer::ephemeral()));
    copy.install(&dir).unwrap();
    assert!(Sealer::existing(&dir, None).unwrap().unwrap().same_kek(&sealer));
    assert!(copy.install(&dir).is_err(), "an existing kek.key is never overwritten");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_running_sealer_reads_a_kek_it_meets_for_the_first_time_from_its_directory() {
    let dir = scratch_dir();
    let (running, _) = Sealer::load_or_create(&dir, None).unwrap();
    let old = running.seal(b"old").unwrap();
    // Elsewhere, the KEK moves on: kek.next.key appears and values are sealed under it.
    let next = Sealer::ephemeral();
    write_private(&dir, &dir.join(NEXT_FILE), next.export().expose_secret()).unwrap();
    let fresh = next.seal(b"new").unwrap();
    assert_eq!(running.open(&fresh).unwrap(), b"new", "the directory is read again for an unknown kid");
    assert_eq!(running.open(&old).unwrap(), b"old");
    assert!(!running.reload_from_disk().unwrap(), "nothing new the second time");
    let stranger = Sealer::ephemeral().seal(b"x").unwrap();
    assert!(matches!(running.open(&stranger), Err(KeyError::UnknownKek(_))));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn earlier_keks_travel_with_an_export_and_are_installed_as_retired() {
    let dir = scratch_dir();
    let (running, _) = Sealer::load_or_create(&dir, None).unwrap();
    let old = running.seal(b"old").unwrap();
    let next = Sealer::ephemeral();
    write_private(&dir, &dir.join(NEXT_FILE), next.export().expose_secret()).unwrap();
    running.reload_from_disk().unwrap();
    let copy = Sealer::from_exports(&next.export(), &running.export_others()).unwrap();
    assert_eq!(running.export_others().len(), 1);
    let other = scratch_dir();
    let restored = Sealer::from_exports(&running.export(), &running.export_others()).unwrap();
    restored.install(&other).unwrap();
    let loaded = Sealer::existing(&other, None).unwrap().unwrap();
    assert_eq!(loaded.open(&old).unwrap(), b"old");
    assert_eq!(loaded.open(&next.seal(b"new").unwrap()).unwrap(), b"new", "kek.retired holds the others");
    assert!(copy.open(&old).is_err(), "a sealer without the current KEK does not open its values");
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(other).unwrap();
}
