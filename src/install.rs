//! The exact commands that install the NVIDIA Container Toolkit from NVIDIA's repository,
//! per package manager, as NVIDIA's install guide gives them.

use crate::facts::OsFacts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Apt,
    Dnf,
    Zypper,
    Unknown,
}

pub fn family(os: &OsFacts) -> Family {
    let ids: Vec<&str> = os
        .id
        .iter()
        .map(String::as_str)
        .chain(os.id_like.iter().map(String::as_str))
        .collect();
    let any = |names: &[&str]| ids.iter().any(|i| names.contains(i));
    if any(&["debian", "ubuntu"]) {
        Family::Apt
    } else if any(&["opensuse", "opensuse-leap", "suse", "sles"]) {
        Family::Zypper
    } else if any(&["rhel", "fedora", "centos", "rocky", "almalinux", "amzn"]) {
        Family::Dnf
    } else {
        Family::Unknown
    }
}

const REPO: &str = "https://nvidia.github.io/libnvidia-container";

pub fn toolkit_commands(os: &OsFacts) -> Vec<String> {
    match family(os) {
        Family::Apt => vec![
            format!("curl -fsSL {REPO}/gpgkey | sudo gpg --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"),
            format!(
                "curl -fsSL {REPO}/stable/deb/nvidia-container-toolkit.list | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#g' | sudo tee /etc/apt/sources.list.d/nvidia-container-toolkit.list"
            ),
            "sudo apt-get update".into(),
            "sudo apt-get install -y nvidia-container-toolkit".into(),
        ],
        Family::Dnf => vec![
            format!("curl -fsSL {REPO}/stable/rpm/nvidia-container-toolkit.repo | sudo tee /etc/yum.repos.d/nvidia-container-toolkit.repo"),
            "sudo dnf install -y nvidia-container-toolkit".into(),
        ],
        Family::Zypper => vec![
            format!("sudo zypper ar {REPO}/stable/rpm/nvidia-container-toolkit.repo"),
            "sudo zypper --gpg-auto-import-keys install -y nvidia-container-toolkit".into(),
        ],
        Family::Unknown => vec![
            "# see https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html".into(),
        ],
    }
}

/// The package manager's upgrade command for an installed toolkit.
pub fn toolkit_upgrade(os: &OsFacts) -> Vec<String> {
    match family(os) {
        Family::Apt => vec![
            "sudo apt-get update".into(),
            "sudo apt-get install --only-upgrade -y nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1".into(),
        ],
        Family::Dnf => vec!["sudo dnf upgrade -y nvidia-container-toolkit".into()],
        Family::Zypper => vec!["sudo zypper update -y nvidia-container-toolkit".into()],
        Family::Unknown => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, like: &[&str]) -> OsFacts {
        OsFacts {
            id: Some(id.into()),
            id_like: like.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn families_follow_id_like() {
        assert_eq!(family(&os("ubuntu", &["debian"])), Family::Apt);
        assert_eq!(family(&os("pop", &["ubuntu", "debian"])), Family::Apt);
        assert_eq!(
            family(&os("rocky", &["rhel", "centos", "fedora"])),
            Family::Dnf
        );
        assert_eq!(
            family(&os("opensuse-leap", &["suse", "opensuse"])),
            Family::Zypper
        );
        assert_eq!(family(&os("arch", &[])), Family::Unknown);
        assert!(
            toolkit_commands(&os("ubuntu", &[]))
                .last()
                .unwrap()
                .contains("apt-get install -y nvidia-container-toolkit")
        );
    }
}
