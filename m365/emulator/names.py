"""Word lists the directory generator draws names from."""

FIRST_NAMES = (
    "Adele", "Alex", "Allan", "Amara", "Andre", "Anna", "Ben", "Bianca", "Brian", "Carla",
    "Carlos", "Chen", "Chloe", "Christie", "Daniel", "Debra", "Diego", "Elena", "Emily",
    "Enrico", "Erik", "Fatima", "Felix", "Fiona", "Gabriel", "Grady", "Hana", "Henrietta",
    "Hugo", "Ines", "Irvin", "Isaiah", "Ivan", "Jana", "Johanna", "Joni", "Jorge", "Julia",
    "Kai", "Karin", "Kenji", "Lara", "Lee", "Leila", "Lidia", "Lina", "Lynne", "Malik",
    "Maria", "Marta", "Megan", "Miriam", "Nadia", "Nestor", "Nikolai", "Noah", "Olga",
    "Omar", "Patti", "Paulo", "Pradeep", "Priya", "Rafael", "Raul", "Rosa", "Ruth", "Sanjay",
    "Sara", "Sofia", "Stefan", "Tariq", "Teresa", "Tomas", "Uma", "Valentina", "Victor",
    "Wei", "Xavier", "Yara", "Yuki", "Zara", "Zoltan",
)

LAST_NAMES = (
    "Abbott", "Alvarez", "Andersen", "Bauer", "Bennett", "Bowen", "Brown", "Carvalho",
    "Chen", "Costa", "Dubois", "Duarte", "Eriksen", "Fischer", "Garcia", "Gomez", "Gupta",
    "Hansen", "Hoffmann", "Ivanova", "Jensen", "Johnson", "Kaur", "Kim", "Kowalski",
    "Larsen", "Lopez", "Martin", "Meyer", "Moreau", "Mueller", "Nakamura", "Nguyen",
    "Novak", "Okafor", "Olsen", "Patel", "Pereira", "Petrov", "Popescu", "Quinn", "Rossi",
    "Russo", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Sousa", "Suzuki", "Tanaka",
    "Taylor", "Thomas", "Tran", "Vance", "Vasquez", "Wagner", "Wang", "Weber", "Wilber",
    "Williams", "Wright", "Yamamoto", "Young", "Zhang",
)

DEPARTMENTS = (
    "Sales", "Marketing", "Finance", "Legal", "Operations", "Engineering", "Research",
    "Human Resources", "Support", "Procurement", "Facilities", "IT",
)

JOB_TITLES = (
    "Analyst", "Accountant", "Architect", "Consultant", "Coordinator", "Designer",
    "Developer", "Director", "Engineer", "Manager", "Officer", "Planner", "Specialist",
    "Technician", "Assistant", "Advisor", "Administrator", "Lead",
)

OFFICES = (
    ("Seattle", "US", "US"), ("London", "GB", "GB"), ("Paris", "FR", "FR"),
    ("Berlin", "DE", "DE"), ("Lisbon", "PT", "PT"), ("Madrid", "ES", "ES"),
    ("Milan", "IT", "IT"), ("Tokyo", "JP", "JP"), ("Toronto", "CA", "CA"),
    ("Sydney", "AU", "AU"), ("Amsterdam", "NL", "NL"), ("Warsaw", "PL", "PL"),
)

SHARED_MAILBOX_WORDS = (
    "desk", "info", "contact", "orders", "invoices", "support", "bookings", "reception",
    "helpdesk", "careers", "press", "team",
)

TOPICS = (
    "Alpine", "Atlas", "Aurora", "Beacon", "Canyon", "Cascade", "Cobalt", "Comet", "Delta",
    "Ember", "Falcon", "Fjord", "Galaxy", "Harbor", "Horizon", "Juniper", "Lagoon",
    "Lantern", "Maple", "Meridian", "Nimbus", "Nova", "Orbit", "Pinnacle", "Prairie",
    "Quartz", "Redwood", "Sierra", "Summit", "Tundra", "Vertex", "Willow", "Zenith",
)

SITE_PURPOSES = (
    "Hub", "Projects", "Policies", "Knowledge Base", "Intranet", "Archive", "Templates",
    "Onboarding", "Reports", "Contracts", "Board", "News",
)
