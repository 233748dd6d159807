"""Fictional names, places and streets for the synthetic population.

Common given names and family names from the communities of England, combined at random, so that no
generated person is anyone real. Pure Python.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NameGroup:
    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]
    languages: tuple[tuple[str, float], ...] = ()
    """Main languages other than English (vocabulary.LANGUAGES codes), with the share of people in
    this group who speak each as their main language."""


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# British given names by birth cohort (born from the year given), so that names fit people's ages.
BRITISH_MALE_BY_COHORT: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        0,
        _split(
            "John William George Peter Kenneth Ronald Dennis Roy Brian Derek Frank Harold Leslie "
            "Albert Raymond Arthur Stanley Norman Walter Ernest Alan Gordon Douglas Cyril"
        ),
    ),
    (
        1950,
        _split(
            "David Paul Mark Andrew Stephen Michael Ian Richard Gary Robert Simon Neil Darren "
            "Steven Martin Philip Kevin Nigel Graham Keith Colin Anthony Jeffrey Trevor"
        ),
    ),
    (
        1980,
        _split(
            "James Daniel Thomas Matthew Christopher Adam Luke Ryan Jack Liam Jamie Craig "
            "Benjamin Samuel Joshua Lewis Nathan Scott Dean Aaron Jordan Carl Lee Wayne"
        ),
    ),
    (
        2000,
        _split(
            "Oliver Harry George Noah Jack Leo Arthur Oscar Charlie Freddie Theo Alfie Archie "
            "Henry Jacob Finley Reuben Tommy Ethan Logan Max Toby Elliot Riley"
        ),
    ),
)
BRITISH_FEMALE_BY_COHORT: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        0,
        _split(
            "Margaret Joan Dorothy Patricia Barbara Betty Jean Sheila Doreen Joyce Audrey Brenda "
            "Irene Eileen Pamela Valerie Marjorie Sylvia Edna Iris Vera Gwendoline Maureen June"
        ),
    ),
    (
        1950,
        _split(
            "Susan Linda Christine Julie Karen Sarah Helen Elizabeth Alison Deborah Tracey Amanda "
            "Nicola Joanne Michelle Janet Carol Jacqueline Wendy Gillian Lorraine Angela Denise "
            "Jane"
        ),
    ),
    (
        1980,
        _split(
            "Emma Laura Rebecca Hannah Charlotte Gemma Amy Katie Lauren Jessica Sophie Rachel "
            "Kirsty Natalie Zoe Stacey Danielle Kelly Leanne Jade Holly Abigail Naomi Chloe"
        ),
    ),
    (
        2000,
        _split(
            "Olivia Amelia Isla Ava Mia Grace Ella Lily Freya Poppy Evie Isabella Sophia Ruby "
            "Millie Florence Willow Phoebe Rosie Harper Matilda Daisy Esme Maisie"
        ),
    ),
)
BRITISH_FAMILY = _split(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Harris Lewis Hughes Edwards Turner Hill "
    "Moore Cooper Ward Morris King Baker Harrison Morgan Allen Scott Phillips Bennett Carter "
    "Mitchell Parker Shaw Cook Bailey Bell Collins Stevens Pearce Luscombe Widdicombe Yeo Hext "
    "Coombe Mudge Ellacott Tucker Snell Friend Penrose Trelawney Chudleigh Northcott Babbage "
    "Endacott Westlake Heard Pengelly Rowe Squire Lang Hooper Stentiford Vosper Goss Honeywill"
)

NAME_GROUPS: dict[str, NameGroup] = {
    "irish": NameGroup(
        _split(
            "Sean Patrick Michael Ciaran Declan Eoin Padraig Niall Conor Liam Brendan Aidan "
            "Cormac Donal Kieran Fergal"
        ),
        _split(
            "Siobhan Niamh Aoife Sinead Ciara Roisin Orla Grainne Mairead Bridget Aisling Clodagh "
            "Eimear Fionnuala Nuala Deirdre"
        ),
        _split(
            "Murphy Kelly O'Sullivan Walsh O'Brien Byrne Ryan O'Connor O'Neill Doyle McCarthy "
            "Gallagher Doherty Kennedy Lynch Quinn Brennan Flanagan Nolan Keane"
        ),
    ),
    "romanian": NameGroup(
        _split(
            "Andrei Mihai Alexandru Ionut Florin Gabriel Bogdan Cristian Marius Adrian Stefan Vlad"
        ),
        _split(
            "Ioana Andreea Elena Maria Alexandra Roxana Mihaela Cristina Simona Daniela Raluca "
            "Gabriela"
        ),
        _split(
            "Popescu Ionescu Popa Dumitru Stan Stoica Gheorghe Rusu Munteanu Matei Constantin "
            "Serban Lungu Dinu"
        ),
        (("ro", 0.45),),
    ),
    "european": NameGroup(
        _split(
            "Piotr Tomasz Krzysztof Pawel Marcin Michal Jakub Lukasz Andrei Mihai Florin Joao "
            "Tiago Rui Marco Luca Giuseppe Matteo Tomas Mantas Darius Jonas Carlos Javier Pierre "
            "Lukas Stefan"
        ),
        _split(
            "Anna Katarzyna Magdalena Agnieszka Joanna Monika Ewa Ioana Elena Andreea Ana Sofia "
            "Beatriz Ines Giulia Chiara Francesca Ruta Egle Laura Lucia Carmen Marie Camille "
            "Katharina Sandra"
        ),
        _split(
            "Nowak Kowalski Wisniewski Wojcik Kaminski Lewandowski Zielinski Szymanski Popescu "
            "Ionescu Stan Silva Santos Ferreira Pereira Costa Rossi Russo Bianchi Romano "
            "Kazlauskas Petrauskas Jankauskas Garcia Fernandez Martin Muller Schmidt"
        ),
        (
            ("pl", 0.14),
            ("ro", 0.07),
            ("lt", 0.04),
            ("pt", 0.04),
            ("it", 0.02),
            ("es", 0.02),
            ("fr", 0.01),
        ),
    ),
    "indian": NameGroup(
        _split(
            "Rajesh Sanjay Amit Vikram Arjun Rohan Harpreet Gurpreet Jaspal Sunil Anil Deepak "
            "Kiran Nikhil Ravi Pradeep Manish Hitesh Jatinder Aarav"
        ),
        _split(
            "Priya Anjali Sunita Neha Pooja Kavita Harjit Manjit Rupinder Asha Meena Nisha Deepa "
            "Shreya Divya Jaspreet Sangeeta Lata Anika Aanya"
        ),
        _split(
            "Patel Shah Singh Sharma Gill Sandhu Mistry Parmar Chauhan Joshi Mehta Desai Kumar "
            "Bains Dhillon Sidhu Chopra Rao Nair Pillai"
        ),
        (("gu", 0.06), ("pa", 0.06), ("hi", 0.03), ("ta", 0.02)),
    ),
    "pakistani": NameGroup(
        _split(
            "Mohammed Muhammad Imran Tariq Asif Zahid Shahid Kamran Adeel Bilal Usman Hamza Zain "
            "Faisal Arshad Nadeem Waqas Sajid Ayaan Ibrahim"
        ),
        _split(
            "Fatima Ayesha Samina Nasreen Shazia Rubina Saima Sadia Nazia Bushra Amina Maryam "
            "Zainab Hina Sana Iqra Khadija Noor Hafsa Aleena"
        ),
        _split(
            "Khan Hussain Ahmed Ali Iqbal Akhtar Mahmood Rashid Shah Butt Malik Qureshi Riaz "
            "Aslam Bashir Javed Anwar Sadiq Mirza Raza"
        ),
        (("ur", 0.12), ("pa", 0.05)),
    ),
    "bangladeshi": NameGroup(
        _split(
            "Abdul Mohammed Shahid Rafiq Jamal Kamal Nazrul Anwar Habib Mizanur Shafiqul Rahim "
            "Sohel Tanvir Arif Imran Rayhan Ayaan"
        ),
        _split(
            "Rahima Rokeya Shirin Nasima Rehana Salma Jahanara Momtaz Taslima Shahana Rumana "
            "Farzana Sumaiya Tahmina Nusrat Ayesha Mariam Safiya"
        ),
        _split(
            "Rahman Uddin Miah Islam Ahmed Chowdhury Hussain Ali Begum Khatun Hoque Alam Sarkar "
            "Bhuiyan Karim Akter"
        ),
        (("bn", 0.25),),
    ),
    "chinese": NameGroup(
        _split("Wei Jun Hao Ming Jian Lei Tao Yong Chun Kai Bo Zhen Kwok Wing Hing Yiu"),
        _split("Mei Ling Hui Xin Yan Jing Li Na Fang Ying Wai Yee Siu Man Xiao Qing"),
        _split(
            "Wang Li Zhang Chen Liu Yang Huang Zhao Wu Zhou Wong Chan Lee Lam Cheung Ng Ho Tang"
        ),
        (("zh", 0.3),),
    ),
    "other-asian": NameGroup(
        _split(
            "Tharshan Kajan Suresh Niroshan Jose Mark Rodel Ramon Bishal Prakash Ramesh Dinesh "
            "Hiroshi Minh Thanh Sok"
        ),
        _split(
            "Tharshini Kavitha Nirosha Maria Joy Rowena Marites Sunita Sabina Anjana Yuki Linh "
            "Thao Mai Sreymom Dilani"
        ),
        _split(
            "Sivakumar Rajendran Kanagaratnam Thevarajah Santos Reyes Cruz Bautista Gurung Tamang "
            "Rai Thapa Nguyen Tran Pham Suzuki Perera Fernando"
        ),
        (("ta", 0.08),),
    ),
    "caribbean": NameGroup(
        _split(
            "Marcus Winston Delroy Errol Clive Lloyd Leroy Tyrone Andre Jermaine Devon Trevor "
            "Desmond Junior Kwame Malachi"
        ),
        _split(
            "Beverley Marcia Sharon Yvonne Claudette Angela Michelle Keisha Shanice Tanya Janelle "
            "Precious Hyacinth Gloria Jasmine Aaliyah"
        ),
        _split(
            "Campbell Brown Williams Thomas Francis Samuels Grant Johnson Clarke Reid Gordon "
            "Henry Wright Edwards Bennett Morrison Lewis James Powell Douglas"
        ),
    ),
    "african": NameGroup(
        _split(
            "Chinedu Oluwaseun Emeka Tunde Femi Kwame Kofi Yaw Kwabena Tendai Tafadzwa Abdi "
            "Mohamed Ahmed Hassan Yusuf Samuel Daniel Joseph Emmanuel Dawit Tesfay"
        ),
        _split(
            "Ngozi Chioma Funmilayo Adaeze Folake Abena Akosua Ama Efua Chipo Rutendo Amina Hodan "
            "Fadumo Sahra Ifrah Blessing Grace Esther Mercy Selam Helen"
        ),
        _split(
            "Okafor Adeyemi Okonkwo Adebayo Olawale Eze Mensah Owusu Asante Boateng Osei Moyo "
            "Ndlovu Dube Mohamed Ali Hassan Abdi Farah Warsame Tesfaye Gebremedhin"
        ),
        (("so", 0.06), ("ti", 0.02), ("fr", 0.02), ("ar", 0.01)),
    ),
    "arab": NameGroup(
        _split("Ahmed Mohammed Omar Khalid Youssef Hassan Karim Tariq Samir Ali Mustafa Rami"),
        _split("Fatima Layla Noor Mariam Huda Amal Rania Yasmin Salma Hana Dina Leila"),
        _split(
            "Al-Sayed Haddad Mansour Khalil Nasser Saleh Hamdan Aziz Farouk Ibrahim Darwish Abboud"
        ),
        (("ar", 0.3),),
    ),
    "other": NameGroup(
        _split(
            "Ali Reza Dara Hawre Mehmet Emre Murat Kemal Carlos Diego Luis Mateo Arash Kaveh "
            "Soran Baran"
        ),
        _split(
            "Shirin Parisa Narges Avin Zeynep Elif Ayse Emine Lucia Valentina Camila Daniela Roya "
            "Dilan Sevgi Ana"
        ),
        _split(
            "Ahmadi Hosseini Karimi Rezaei Mohammadi Yilmaz Kaya Demir Sahin Celik Rodriguez "
            "Gonzalez Lopez Hernandez Barzani Talabani"
        ),
        (("fa", 0.1), ("ku", 0.08), ("tr", 0.08), ("es", 0.05)),
    ),
}

# Mixed groups draw a given name from one list and a family name from another.
MIXED_PARENTS: dict[str, tuple[str, str]] = {
    "mixed-caribbean": ("british", "caribbean"),
    "mixed-african": ("british", "african"),
    "mixed-asian": ("british", "indian"),
    "mixed-other": ("british", "other"),
}

# ASSUMED: NHS and care staff are more diverse than the population they serve.
STAFF_NAME_GROUPS: tuple[tuple[str, float], ...] = (
    ("british", 0.68),
    ("irish", 0.02),
    ("european", 0.06),
    ("indian", 0.06),
    ("pakistani", 0.03),
    ("bangladeshi", 0.01),
    ("other-asian", 0.05),
    ("african", 0.06),
    ("caribbean", 0.02),
    ("chinese", 0.01),
)

# The fictional area, "Torvale and South Moor", is modelled on Torbay and South Devon. The town
# names are invented; postcodes use the area's TQ districts with random sectors and units.
# (town, postcode district, share of the population)
TOWNS: tuple[tuple[str, str, float], ...] = (
    ("Torvale", "TQ1", 0.22),
    ("Paigncombe", "TQ3", 0.2),
    ("Brixmouth", "TQ5", 0.08),
    ("Newton Moor", "TQ12", 0.16),
    ("Totbridge", "TQ9", 0.08),
    ("Dartcombe", "TQ6", 0.05),
    ("Teignhaven", "TQ14", 0.07),
    ("Ashcombe", "TQ13", 0.06),
    ("Kingsweir", "TQ7", 0.08),
)
STREETS = _split(
    "Harbour Cliff Station Church Mill Chapel Orchard Meadow Castle Quarry Fore Victoria Albert "
    "Primrose Seaview Moorview Barton Coombe Warren Lime Kiln Beacon Ferry Ropewalk Lighthouse "
    "Bay Parkfield Oakfield Ashfield Redwell Fernhill Chestnut Beech Rowan Hawthorn Heather"
)
STREET_KINDS = _split("Road Street Lane Close Avenue Drive Crescent Terrace Gardens Way Hill Rise")
PRACTICE_NAMES = _split(
    "Harbourside Cliff-Road Moorview Riverside Beacon Chapel-Street Parkfield Barton Ferry Seaview "
    "Castle-Hill Orchard"
)
